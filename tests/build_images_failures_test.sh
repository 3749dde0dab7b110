#!/usr/bin/env bash
# Bad input for `pbrx build-images`: each failure names the failing step,
# its command and the tail of its log; exit code 1; nothing tagged for the
# failed project while the other projects of the call still build.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
fail() { echo "FAIL: $*" >&2; exit 1; }
source "$REPO/tests/seed_lib.sh"
CACHE="$T/cache"
seeded_cache "$CACHE"
for p in broken-c unknown-distro-pkg unsatisfiable; do
  cp -rL "$REPO/tests/fixtures/projects/$p" "$T/$p"
done
cp -rL "$REPO/examples/pep621-hello" "$T/hello"
mkdir -p "$T/empty-links" "$T/not-python"
# Hostile project files: a pyproject.toml that is a symlink to a host file,
# and a .git/HEAD that is a symlink to /dev/zero, which a reader that
# follows it would read forever.
mkdir -p "$T/escape"
ln -s /etc/passwd "$T/escape/pyproject.toml"
cp -r "$T/hello" "$T/zero-head"
mkdir -p "$T/zero-head/.git"
ln -s /dev/zero "$T/zero-head/.git/HEAD"

set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/out" --find-links "$T/empty-links" \
  "$T/broken-c" "$T/hello" "$T/unknown-distro-pkg" "$T/unsatisfiable" "$T/not-python" "$T/escape" "$T/zero-head" \
  >"$T/stdout" 2>"$T/stderr"
rc=$?
set -e
cat "$T/stderr"
[[ $rc == 1 ]] || fail "want exit 1, got $rc"
save_seed "$CACHE"
# The good project still built, and only it was tagged.
grep -q "^hello-pbrx:latest sha256:" "$T/stdout" || fail "hello was not built"
[[ $(wc -l <"$T/stdout") == 3 ]] || fail "only hello's 3 images may be tagged"
refs=$(python3 -c 'import json,sys; print(" ".join(sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in json.load(open(sys.argv[1]))["manifests"] if "artifactType" not in m)))' "$T/out/index.json")
[[ "$refs" == "hello-pbrx-base:latest hello-pbrx-info:latest hello-pbrx:latest" ]] || fail "refs: $refs"

grep -q "broken-c: step project-wheel (.*broken-c) failed: exit 1" "$T/stderr" || fail "C build failure"
grep -q "command: python3 -m pip wheel" "$T/stderr" || fail "failing command not shown"
grep -q "src/broken.c:2" "$T/stderr" || fail "compiler error not in the log tail"
# Unmarked bindep rules are in the builder too, so the builder step fails first.
grep -q "unknown-distro-pkg: step distro-layer (builder) failed: exit 100" "$T/stderr" || fail "unknown package"
grep -q "Unable to locate package pbrx-no-such-package-xyz" "$T/stderr" || fail "apt's message"
grep -q "unsatisfiable: step resolve (base) failed: exit 1" "$T/stderr" || fail "unsatisfiable requirement"
grep -q "No matching distribution found for pbrx-nonexistent-dependency>=1.0" "$T/stderr" || fail "pip's message"
grep -q "^pbrx build-images: $T/not-python: not a Python project (no pyproject.toml, setup.cfg or setup.py)$" "$T/stderr" || fail "not a python project"
grep -qF "pbrx build-images: $T/escape/pyproject.toml: leaves $T/escape (through a symlink or '..'); files are read only beneath it" "$T/stderr" \
  || fail "a pyproject.toml symlinked out of the project was not refused"
grep -qF "pbrx build-images: $T/zero-head: symlink 'HEAD' -> '/dev/zero' is unsafe (absolute or leaves the tree)" "$T/stderr" \
  || fail "a .git/HEAD symlinked to /dev/zero was not refused"

# The failed steps left no Action Cache entry: running again runs them again.
set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/out2" --json "$T/broken-c" \
  >"$T/again.json" 2>"$T/again.events"
set -e
python3 - "$T/again.json" "$T/again.events" <<'PY' || fail "failed step was cached"
import json, sys
p = json.load(open(sys.argv[1]))["projects"][0]
assert "step project-wheel" in p["error"] and "broken.c:2" in p["error"], p
# The progress events name every step with its cache outcome: the failed
# step ran again (no Action Cache entry was left), the steps before it hit.
events = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
steps = [e for e in events if e["event"] == "step"]
wheel = [e for e in steps if e["kind"] == "project-wheel"]
assert len(wheel) == 1 and wheel[0]["cached"] is False, wheel
before = [e for e in steps if e["kind"] != "project-wheel"]
assert before and all(e["cached"] for e in before), before
PY
echo PASS
