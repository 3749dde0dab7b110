#!/usr/bin/env bash
# A corrupt chunk on the cache's disk, found in the middle of a farm build:
# a project builds on the farm; with the farm stopped one byte of a layer of
# its image is flipped on disk (tests/corrupt_chunk: the chunk's CRC no
# longer matches, as after a failing disk); the farm starts again on the
# same data and the client builds the same project into a new layout:
#   - that build fails clearly: exit 1 or 3, the message names the layer's
#     digest and the CRC failure; the new layout names no image;
#   - the cache dropped the corrupt blob, so the Action Cache entry that
#     referenced it is incomplete: the retry runs that step again, completes,
#     and its images have the digests of the first build (nothing poisoned,
#     nothing else lost: every other step is a cache hit).
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
source "$REPO/tests/farm_lib.sh"
CACHE_PID=""
trap 'stop_farm; [[ -n "$CACHE_PID" ]] && kill "$CACHE_PID" 2>/dev/null; true' EXIT

write_pyproject "$T/proj" chunkdemo
mkdir -p "$T/proj/chunkdemo"
printf 'def main():\n    print("chunkdemo %s")\n' "$(date +%s%N)-$$" >"$T/proj/chunkdemo/__init__.py"

start_all() {
  launch_cache "$T/cache/db"
  start_coordinator "$CACHE_ADDR" --metrics-listen=127.0.0.1:0
  start_executor e1 "$COORD_ADDR" "$CACHE_ADDR" --slots=2
  wait_executors 1
  FARM="grpc://$COORD_ADDR"
}
stop_all() {
  stop_farm
  kill -TERM "$CACHE_PID"; wait "$CACHE_PID" || true; CACHE_PID=""
}
# digests LAYOUT: "ref digest" per image of LAYOUT, sorted.
digests() {
  python3 - "$T/$1/index.json" <<'PY'
import json, sys
for m in json.load(open(sys.argv[1]))["manifests"]:
    if "artifactType" not in m:  # not an SBOM or provenance
        print(m["annotations"]["org.opencontainers.image.ref.name"], m["digest"])
PY
}

seeded_cache "$T/cache"
start_all
"$PBRX" build-images --farm "$FARM" --output "oci:$T/out1" "$T/proj" >"$T/build1.out" 2>"$T/build1.err" \
  || { cat "$T/build1.err"; fail "the first build"; }
digests out1 | sort >"$T/digests1"
[[ "$(wc -l <"$T/digests1")" == 2 ]] || fail "want 2 images (chunkdemo-base, chunkdemo), got: $(cat "$T/digests1")"

# The top layer of the script image (its bytecode layer).
manifest=$(awk '$1 == "chunkdemo:latest" {print $2}' "$T/digests1")
[[ -n "$manifest" ]] || fail "no chunkdemo:latest in $(cat "$T/digests1")"
layer=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); l=m["layers"][-1]; print(l["digest"].split(":")[1] + "/" + str(l["size"]))' \
  "$T/out1/blobs/sha256/${manifest#sha256:}")
stop_all
"$TEST_SRCDIR/pbrx/tests/corrupt_chunk" --db "$T/cache/db" --blob "$layer" \
  || fail "could not corrupt $layer"

start_all
rc=0
"$PBRX" build-images --farm "$FARM" --output "oci:$T/out2" "$T/proj" >"$T/build2.out" 2>"$T/build2.err" || rc=$?
[[ "$rc" == 1 || "$rc" == 3 ]] || { cat "$T/build2.err"; fail "the build over a corrupt layer exited $rc, want 1 or 3"; }
grep -q "${layer%/*}" "$T/build2.err" || { cat "$T/build2.err"; fail "the failure does not name the corrupt layer ${layer%/*}"; }
grep -qi "CRC" "$T/build2.err" || { cat "$T/build2.err"; fail "the failure does not say the chunk failed its CRC check"; }
# The layout may exist (made before the first image), but names no image.
if [[ -e "$T/out2/index.json" ]]; then
  [[ -z "$(digests out2)" ]] || fail "the failed build left an image in out2: $(digests out2)"
fi
echo "the build over the corrupt layer failed (exit $rc): $(tail -n1 "$T/build2.err")"

# The retry rebuilds the dropped layer, only it.
executed_steps() {  # steps the coordinator ran (not cache hits), all kinds
  curl -sf --noproxy '*' "http://$METRICS_ADDR/metrics" \
    | awk '/^pbrx_coordinator_steps_total\{.*outcome="executed"/ {n += $2} END {print n + 0}'
}
executed_before=$(executed_steps)
"$PBRX" build-images --farm "$FARM" --output "oci:$T/out2" "$T/proj" >"$T/build3.out" 2>"$T/build3.err" \
  || { cat "$T/build3.err"; fail "the retry after the corrupt layer was dropped"; }
digests out2 | sort >"$T/digests3"
diff "$T/digests1" "$T/digests3" || fail "the retry's images differ from the first build's"
executed=$(executed_steps)
[[ "$executed" == $(( executed_before + 1 )) ]] \
  || fail "want exactly the step of the dropped layer run again, steps executed $executed_before -> $executed"
out=$(run_image out2 chunkdemo:latest)
[[ "$out" == chunkdemo* ]] || fail "the retried image runs: $out"
echo "PASS"
