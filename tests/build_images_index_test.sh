#!/usr/bin/env bash
# Dependencies from a PEP 503 index (python3 -m http.server) on another
# "host": a network namespace of its own behind a veth pair, which steps
# reach the way they reach the outside (their own network namespace and
# slirp4netns): resolve runs against the index (never cached), fetch steps
# download by URL and verify sha256 (cached), sdists are built into wheels;
# the index (plain http: --trusted-host) is also found through pip.conf as
# pip would. The same index on
# this host's loopback is out of the steps' reach. Only those two servers are
# contacted (besides Debian's mirror for distro layers).
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
CACHE="$T/cache"
seeded_cache "$CACHE"
SERVER=""
AUTH_SERVER=""
LOOPBACK_SERVER=""
HOLDER=""
cleanup() {
  [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null || true
  [[ -n "$AUTH_SERVER" ]] && kill "$AUTH_SERVER" 2>/dev/null || true
  [[ -n "$LOOPBACK_SERVER" ]] && kill "$LOOPBACK_SERVER" 2>/dev/null || true
  [[ -n "$HOLDER" ]] && kill "$HOLDER" 2>/dev/null || true
}
trap cleanup EXIT

cp -rL "$REPO/examples/pbr-service" "$T/src"
stage_dists "$T/dists"
"$T/tools/make-test-index" "$T/dists" "$T/index"
# The index host: 10.214.N.2 in a network namespace of its own.
start_other_host
HOLDER=$OTHER_HOLDER
NS=$OTHER_NS
N=${OTHER_IP#10.214.}
N=${N%.2}
# start_server OUT LOG BIND [nsenter args...]: a server taking its own port
# (0); sets PORT from what it prints.
start_server() {
  local out="$1" log="$2" bind="$3"; shift 3
  "$@" python3 -u -m http.server --bind "$bind" 0 --directory "$T/index" >"$out" 2>"$log" &
  STARTED=$!
  PORT=""
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/^Serving HTTP on .* port \([0-9]*\) .*/\1/p' "$out")
    [[ -n "$PORT" ]] && return 0
    sleep 0.1
  done
  fail "the index server printed no port"
}
start_server "$T/server.out" "$T/server.log" "10.214.$N.2" nsenter --net="$NS"
SERVER=$STARTED
URL="http://10.214.$N.2:$PORT/simple"
TRUSTED="10.214.$N.2:$PORT"  # plain http: pip wants the host named

"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/one" --index-url "$URL" --trusted-host "$TRUSTED" --json "$T/src" \
  >"$T/one.json" 2>"$T/one.err" || { cat "$T/one.err"; fail "build from the index"; }
python3 - "$T/one.json" <<'PY' || fail "report of the first build"
import json, sys
p = json.load(open(sys.argv[1]))["projects"][0]
kinds = [s["kind"] for s in p["steps"]]
assert kinds.count("fetch") >= 3, kinds
assert len(p["images"]) == 3, p["images"]
PY
grep -q 'GET /files/ffibridge-1.0.tar.gz' "$T/server.log" || fail "ffibridge was not fetched from the index"
save_seed "$CACHE"
out=$(run_image one pbrx-service-api:latest)
[[ "$out" == "[api ready, abs(-42) via libffi = 42]" ]] || fail "api from index deps: $out"

# Again, with the index from pip.conf: only the resolutions run.
printf '[global]\nindex-url = %s\ntrusted-host = 10.214.%s.2\n' "$URL" "$N" >"$T/pip.conf"
PIP_CONFIG_FILE="$T/pip.conf" "$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/two" \
  --json "$T/src" >"$T/two.json" 2>"$T/two.err" || { cat "$T/two.err"; fail "build via pip.conf"; }
# Only the resolutions and the downloads run again: files fetched over
# plain http are never cached (anyone on the path could change the file
# and the index's sha256 with it); the wheels built from them are.
python3 - "$T/one.json" "$T/two.json" <<'PY' || fail "second build ran more than the resolutions and fetches"
import json, sys
one, two = (json.load(open(f))["projects"][0] for f in sys.argv[1:3])
fetches = sum(1 for s in one["steps"] if s["kind"] == "fetch")
ran = sorted(s["kind"] for s in two["steps"] if not s["cached"] and s["kind"] != "image-assembly")
assert ran == ["fetch"] * fetches + ["resolve", "resolve"], ran
PY
# Same images both ways.
a=$(python3 -c 'import json,sys; print([i["digest"] for i in json.load(open(sys.argv[1]))["projects"][0]["images"]])' "$T/one.json")
b=$(python3 -c 'import json,sys; print([i["digest"] for i in json.load(open(sys.argv[1]))["projects"][0]["images"]])' "$T/two.json")
[[ "$a" == "$b" ]] || fail "digests differ: $a vs $b"

# An index that wants credentials. Given in the URL as pip takes them,
# they reach the resolve and fetch steps (as a netrc made in memory) and
# nothing else: not an Action or Command (the cache holds the URL without
# them), not the report, the progress lines or the images. Without them
# the build fails on the index's 401.
PASSWORD="pw-$$-$(date +%s%N)"
nsenter --net="$NS" python3 -u "$REPO/tests/auth_index_server.py" "10.214.$N.2" "$T/index" ci-bot "$PASSWORD" \
  >"$T/auth.out" 2>"$T/auth.log" &
AUTH_SERVER=$!
APORT=""
for _ in $(seq 1 100); do
  APORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$T/auth.out")
  [[ -n "$APORT" ]] && break
  sleep 0.1
done
[[ -n "$APORT" ]] || fail "the authenticating index printed no port"
set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/noauth" --index-url "http://10.214.$N.2:$APORT/simple" \
  --trusted-host "10.214.$N.2:$APORT" "$T/src" >"$T/noauth.out" 2>"$T/noauth.err"
rc=$?
set -e
[[ $rc == 1 ]] || { cat "$T/noauth.err"; fail "an index wanting credentials, none given: want exit 1, got $rc"; }
grep -q "step resolve (.*) failed" "$T/noauth.err" || { cat "$T/noauth.err"; fail "no failed resolve step"; }
grep -q "401" "$T/noauth.err" || { cat "$T/noauth.err"; fail "the index's 401 is not shown"; }
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/auth" \
  --index-url "http://ci-bot:$PASSWORD@10.214.$N.2:$APORT/simple" --trusted-host "10.214.$N.2:$APORT" \
  --json "$T/src" >"$T/auth.json" 2>"$T/auth.err" || { cat "$T/auth.err" "$T/auth.log"; fail "build from an index with credentials"; }
grep -q "GET /simple/.* user=ci-bot" "$T/auth.log" || fail "the resolve step did not authenticate: $(cat "$T/auth.log")"
grep -q "GET /files/.* user=ci-bot" "$T/auth.log" || fail "the fetch steps did not authenticate: $(cat "$T/auth.log")"
d=$(python3 -c 'import json,sys; print([i["digest"] for i in json.load(open(sys.argv[1]))["projects"][0]["images"]])' "$T/auth.json")
[[ "$a" == "$d" ]] || fail "images differ with an authenticated index: $a vs $d"
# The cache holds the resolve Command with the index URL (so a search of
# its files finds what is there) but never the password.
grep -rqaF "10.214.$N.2:$APORT/simple" "$CACHE" || fail "the search finds not even the index URL in the cache"
for f in "$CACHE" "$T/auth" "$T/auth.json" "$T/auth.err" "$T/noauth.err"; do
  ! grep -rqaF -- "$PASSWORD" "$f" || fail "the index password is in $f"
done

# A file whose bytes do not match the index's sha256 fails the build with
# a precise message, and nothing is tagged.
cp "$T/index/files/pbrxdemo_table-0.4.tar.gz" "$T/index/files/pbrxdemo_table-0.6.tar.gz"
echo "<a href=\"../../files/pbrxdemo_table-0.6.tar.gz#sha256=$(printf '0%.0s' $(seq 64))\">pbrxdemo_table-0.6.tar.gz</a><br>" \
  >>"$T/index/simple/pbrxdemo-table/index.html"
set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/three" --index-url "$URL" --trusted-host "$TRUSTED" \
  "$T/src" >"$T/three.out" 2>"$T/three.err"
rc=$?
set -e
cat "$T/three.err"
[[ $rc == 1 ]] || fail "tampered index: want exit 1, got $rc"
grep -qE "step resolve \((base|pbrx-service-manage)\) failed: exit 1" "$T/three.err" || fail "the failing resolve step is not named"
grep -qF "Expected sha256 $(printf '0%.0s' $(seq 64))" "$T/three.err" || fail "the index's sha256 is not shown"
got=$(sha256sum "$T/index/files/pbrxdemo_table-0.6.tar.gz" | cut -d' ' -f1)
grep -qE "^ +Got +$got$" "$T/three.err" || fail "the served file's sha256 ($got) is not shown"
[[ ! -s "$T/three.out" ]] || fail "images were tagged despite the failure"

# A constraints file (a lock of pins) steers the resolver around the bad
# 0.6: the build succeeds with the same digests as the first one.
printf 'pbrxdemo-table==0.4\n' >"$T/lock.txt"
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/four" --index-url "$URL" --trusted-host "$TRUSTED" \
  --constraint "$T/lock.txt" --json "$T/src" >"$T/four.json" 2>"$T/four.err" \
  || { cat "$T/four.err"; fail "build with a constraints file"; }
c=$(python3 -c 'import json,sys; print([i["digest"] for i in json.load(open(sys.argv[1]))["projects"][0]["images"]])' "$T/four.json")
[[ "$a" == "$c" ]] || fail "constrained build differs: $a vs $c"
python3 - "$T/one.json" "$T/four.json" <<'PY' || fail "the constraint is not among the resolve key inputs"
import json, sys
one, four = (json.load(open(p))["projects"][0] for p in sys.argv[1:3])
def resolves(p):
    return {s["name"]: s["key_inputs"] for s in p["steps"] if s["kind"] == "resolve"}
a, b = resolves(one), resolves(four)
assert sorted(a) == sorted(b) == ["base", "pbrx-service-manage"], (sorted(a), sorted(b))
for name in a:
    assert "--constraint" not in a[name]["argv"], a[name]["argv"]
    argv = b[name]["argv"]
    i = argv.index("--constraint")
    assert argv[i + 1] == "/work/constraints/c1.txt", argv
    # The file's content is in the input tree: the input roots differ.
    assert a[name]["input_root"] != b[name]["input_root"], name
PY
# An unsatisfiable pin: exit 1, the resolve step named, nothing tagged.
printf 'pbrxdemo-colors==9.9\n' >"$T/bad-lock.txt"
set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/five" --index-url "$URL" --trusted-host "$TRUSTED" \
  -c "$T/bad-lock.txt" "$T/src" >"$T/five.out" 2>"$T/five.err"
rc=$?
set -e
cat "$T/five.err"
[[ $rc == 1 ]] || fail "unsatisfiable constraint: want exit 1, got $rc"
grep -q "step resolve" "$T/five.err" || fail "the failing resolve step is not named"
grep -qF "pbrxdemo-colors==9.9" "$T/five.err" || fail "the conflicting pin is not shown"
[[ ! -s "$T/five.out" ]] || fail "images were tagged despite the failure"
# A missing constraints file is a usage error.
set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/six" -c "$T/nope.txt" "$T/src" 2>"$T/six.err"
rc=$?
set -e
[[ $rc == 2 ]] || fail "missing constraints file: want exit 2, got $rc"
grep -q "constraints file .*nope.txt cannot be read" "$T/six.err" || fail "missing constraints message"
# The same index on this host's loopback: a step cannot reach it.
start_server "$T/lo.out" "$T/lo.log" 127.0.0.1
LOOPBACK_SERVER=$STARTED
set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/lo" --index-url "http://127.0.0.1:$PORT/simple" \
  "$T/src" >"$T/lo-build.out" 2>"$T/lo-build.err"
rc=$?
set -e
[[ $rc == 1 ]] || { cat "$T/lo-build.err"; fail "a build from the host's loopback index: want exit 1, got $rc"; }
grep -q "step resolve (.*) failed: exit 1" "$T/lo-build.err" || { cat "$T/lo-build.err"; fail "no failed resolve step"; }
grep -q "Connection refused" "$T/lo-build.err" || { cat "$T/lo-build.err"; fail "pip did not report a refused connection"; }
! grep -q "GET " "$T/lo.log" || fail "the loopback index was reached: $(cat "$T/lo.log")"
echo PASS
