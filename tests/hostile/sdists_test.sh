#!/usr/bin/env bash
# Hostile build code: projects whose setup.py attacks the machine building
# them, built by the real `pbrx build-images` (embedded mode), each in the
# sandbox of its wheel step with tight --action-* limits. Every project must
# fail with the exact reason, the others of the call unaffected, and the host
# untouched: no file at the paths attacked, the canary tree byte-identical,
# no process of theirs left, the loopback server never reached.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
fail() { echo "FAIL: $*" >&2; exit 1; }
source "$REPO/tests/seed_lib.sh"
CACHE="$T/cache"
seeded_cache "$CACHE"

# The host: a canary tree, and a server on the host's loopback.
mkdir -p "$T/canary/etc"
echo "canary secret" >"$T/canary/secret"
echo "root:x:0:0::/root:/bin/sh" >"$T/canary/etc/passwd"
snapshot() { (cd "$T/canary" && find . -printf '%p %m %s %T@\n' | sort && cat secret etc/passwd) | sha256sum; }
before=$(snapshot)
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); open(sys.argv[1], "w").write("reached\n")
' "$T/reached" >"$T/port" &
server=$!
for _ in $(seq 1 50); do [[ -s "$T/port" ]] && break; sleep 0.1; done
PORT=$(cat "$T/port")

# project NAME PYTHON-CODE: a setuptools project whose setup.py runs the
# code before setup().
project() {
  mkdir -p "$T/$1/$1"
  printf '[metadata]\nname = %s\nversion = 1.0\n[options]\npackages = %s\n' "$1" "$1" >"$T/$1/setup.cfg"
  touch "$T/$1/$1/__init__.py"
  { echo "import os, socket, sys, time"; echo "$2"; echo "from setuptools import setup"; echo "setup()"; } >"$T/$1/setup.py"
}
project writes-etc "
for p in ('/etc/pbrx-hostile', '/usr/pbrx-hostile', '/root/pbrx-hostile'):
    try:
        open(p, 'w').write('owned')
    except OSError as e:
        print('refused', p, e.strerror, file=sys.stderr)
sys.exit(3)"
project reads-host "
print(open('$T/canary/secret').read())"
project forks "
while True:
    try:
        if os.fork() == 0:
            null = os.open('/dev/null', os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.execvp('sleep', ['sleep', '600.$$'])
    except OSError as e:
        print('fork refused:', e.strerror, file=sys.stderr)
        sys.exit(5)"
project eats-memory "
blocks = []
while True:
    blocks.append(bytearray(16 << 20))"
project loopback "
try:
    socket.create_connection(('127.0.0.1', $PORT), timeout=5)
except OSError as e:
    print('loopback refused:', e.__class__.__name__, file=sys.stderr)
    sys.exit(4)"
project fills-tmp "
open('/tmp/fill', 'wb').write(b'0' * (64 << 20))"
project sleeps "
time.sleep(600)"
cp -rL "$REPO/examples/pep621-hello" "$T/hello"

set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/out" --jobs 2 \
  --action-memory 256M --action-pids 64 --action-tmp-size 16M --action-timeout-max 45s \
  "$T/writes-etc" "$T/reads-host" "$T/forks" "$T/eats-memory" "$T/loopback" "$T/fills-tmp" \
  "$T/sleeps" "$T/hello" >"$T/stdout" 2>"$T/stderr"
rc=$?
set -e
kill "$server" 2>/dev/null || true
cat "$T/stderr"
save_seed "$CACHE"
[[ $rc == 1 ]] || fail "want exit 1, got $rc"
grep -q "^hello-pbrx:latest sha256:" "$T/stdout" || fail "the benign project did not build"
[[ $(wc -l <"$T/stdout") == 3 ]] || fail "only hello's images may be tagged"

want() {  # PROJECT REGEX: the project's failure line, then text of its log
  grep -qE "^pbrx build-images: $T/$1: step project-wheel \(.*\) failed: $2" "$T/stderr" \
    || fail "$1: no failure line matching '$2'"
}
want writes-etc "exit 1"
grep -qF "refused /etc/pbrx-hostile Read-only file system" "$T/stderr" || fail "writes-etc: /etc not read-only"
grep -qF "refused /usr/pbrx-hostile Read-only file system" "$T/stderr" || fail "writes-etc: /usr not read-only"
want reads-host "exit 1"
grep -qF "FileNotFoundError: [Errno 2] No such file or directory: '$T/canary/secret'" "$T/stderr" \
  || fail "reads-host: the host file was visible"
want forks "exit 1 \(process limit 64 reached\)"
grep -qF "fork refused: Resource temporarily unavailable" "$T/stderr" || fail "forks: fork was not refused"
want eats-memory "killed: memory limit \(256 MiB\) exceeded"
want loopback "exit 1"
grep -qF "loopback refused: ConnectionRefusedError" "$T/stderr" || fail "loopback: not refused"
want fills-tmp "exit 1"
grep -qF "OSError: [Errno 28] No space left on device" "$T/stderr" || fail "fills-tmp: /tmp not bounded"
want sleeps "killed: wall-time limit \(45s\) exceeded"

# The host is untouched.
for p in /etc/pbrx-hostile /usr/pbrx-hostile /root/pbrx-hostile; do
  [[ ! -e "$p" ]] || fail "$p was created"
done
[[ "$(snapshot)" == "$before" ]] || fail "the canary tree changed"
[[ ! -e "$T/reached" ]] || fail "the host's loopback server was reached"
if pgrep -f "sleep 600.$$" >/dev/null; then fail "processes of the fork bomb are still running"; fi
echo PASS
