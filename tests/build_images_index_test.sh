#!/usr/bin/env bash
# Dependencies from a PEP 503 index on loopback (python3 -m http.server):
# resolve runs against the index (never cached), fetch steps download by URL
# and verify sha256 (cached), sdists are built into wheels; the index is
# also found through pip.conf as pip would. Only 127.0.0.1 is contacted
# (besides Debian's mirror for distro layers).
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
CACHE=/var/tmp/pbrx-test-cache
source "$REPO/tests/e2e_lib.sh"
SERVER=""
trap '[[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null || true' EXIT

cp -rL "$REPO/examples/pbr-service" "$T/src"
stage_dists "$T/dists"
"$T/tools/make-test-index" "$T/dists" "$T/index"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 "$PORT" --directory "$T/index" >"$T/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf --noproxy '*' "http://127.0.0.1:$PORT/simple/" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/simple"

"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/one" --index-url "$URL" --json "$T/src" \
  >"$T/one.json" 2>"$T/one.err" || { cat "$T/one.err"; fail "build from the index"; }
python3 - "$T/one.json" <<'PY' || fail "report of the first build"
import json, sys
p = json.load(open(sys.argv[1]))["projects"][0]
kinds = [s["kind"] for s in p["steps"]]
assert kinds.count("fetch") >= 3, kinds
assert len(p["images"]) == 3, p["images"]
PY
grep -q 'GET /files/ffibridge-1.0.tar.gz' "$T/server.log" || fail "ffibridge was not fetched from the index"
out=$(run_image one pbrx-service-api:latest)
[[ "$out" == "[api ready, abs(-42) via libffi = 42]" ]] || fail "api from index deps: $out"

# Again, with the index from pip.conf: only the resolutions run.
printf '[global]\nindex-url = %s\n' "$URL" >"$T/pip.conf"
PIP_CONFIG_FILE="$T/pip.conf" "$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/two" \
  --json "$T/src" >"$T/two.json" 2>"$T/two.err" || { cat "$T/two.err"; fail "build via pip.conf"; }
python3 - "$T/two.json" <<'PY' || fail "second build ran more than the resolutions"
import json, sys
p = json.load(open(sys.argv[1]))["projects"][0]
ran = sorted(s["kind"] for s in p["steps"] if not s["cached"] and s["kind"] != "image-assembly")
assert ran == ["resolve", "resolve"], ran
PY
# Same images both ways.
a=$(python3 -c 'import json,sys; print([i["digest"] for i in json.load(open(sys.argv[1]))["projects"][0]["images"]])' "$T/one.json")
b=$(python3 -c 'import json,sys; print([i["digest"] for i in json.load(open(sys.argv[1]))["projects"][0]["images"]])' "$T/two.json")
[[ "$a" == "$b" ]] || fail "digests differ: $a vs $b"

# A file whose bytes do not match the index's sha256 fails the build with
# a precise message, and nothing is tagged.
cp "$T/index/files/pbrxdemo_table-0.4.tar.gz" "$T/index/files/pbrxdemo_table-0.6.tar.gz"
echo "<a href=\"../../files/pbrxdemo_table-0.6.tar.gz#sha256=$(printf '0%.0s' $(seq 64))\">pbrxdemo_table-0.6.tar.gz</a><br>" \
  >>"$T/index/simple/pbrxdemo-table/index.html"
set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/three" --index-url "$URL" \
  "$T/src" >"$T/three.out" 2>"$T/three.err"
rc=$?
set -e
cat "$T/three.err"
[[ $rc == 1 ]] || fail "tampered index: want exit 1, got $rc"
grep -qi "hash" "$T/three.err" || fail "no hash mismatch message"
[[ ! -s "$T/three.out" ]] || fail "images were tagged despite the failure"

# A constraints file (a lock of pins) steers the resolver around the bad
# 0.6: the build succeeds with the same digests as the first one.
printf 'pbrxdemo-table==0.4\n' >"$T/lock.txt"
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/four" --index-url "$URL" \
  --constraint "$T/lock.txt" --json "$T/src" >"$T/four.json" 2>"$T/four.err" \
  || { cat "$T/four.err"; fail "build with a constraints file"; }
c=$(python3 -c 'import json,sys; print([i["digest"] for i in json.load(open(sys.argv[1]))["projects"][0]["images"]])' "$T/four.json")
[[ "$a" == "$c" ]] || fail "constrained build differs: $a vs $c"
grep -q -- '--constraint' "$T/four.json" || fail "the constraint is not among the resolve key inputs"
# An unsatisfiable pin: exit 1, the resolve step named, nothing tagged.
printf 'pbrxdemo-colors==9.9\n' >"$T/bad-lock.txt"
set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/five" --index-url "$URL" \
  -c "$T/bad-lock.txt" "$T/src" >"$T/five.out" 2>"$T/five.err"
rc=$?
set -e
cat "$T/five.err"
[[ $rc == 1 ]] || fail "unsatisfiable constraint: want exit 1, got $rc"
grep -q "step resolve" "$T/five.err" || fail "the failing resolve step is not named"
grep -q "pbrxdemo-colors==9.9\|pbrxdemo_colors==9.9\|9.9" "$T/five.err" || fail "the conflicting pin is not shown"
[[ ! -s "$T/five.out" ]] || fail "images were tagged despite the failure"
# A missing constraints file is a usage error.
set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/six" -c "$T/nope.txt" "$T/src" 2>"$T/six.err"
rc=$?
set -e
[[ $rc == 2 ]] || fail "missing constraints file: want exit 2, got $rc"
grep -q "constraints file .*nope.txt cannot be read" "$T/six.err" || fail "missing constraints message"
echo PASS
