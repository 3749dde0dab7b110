#!/usr/bin/env bash
# Benchmark: cold build (empty cache: mmdebstrap, apt layers, wheels, layers)
# vs warm rebuild (all cache hits) of both examples, wall time and steps run.
#   bazel run //tools/bench:build_images_bench [-- WORK_DIR]
set -euo pipefail
RUNFILES="${RUNFILES_DIR:-$0.runfiles}/pbrx"
PBRX="$RUNFILES/client/pbrx"
work="${1:-/tmp/pbrx-build-bench}"
rm -rf "$work" && mkdir -p "$work/tests/fixtures" "$work/tools"
cp -rL "$RUNFILES/tests/fixtures/dists" "$work/tests/fixtures/dists"
cp -L "$RUNFILES/tools/make-fixture-dists" "$work/tools/"
"$work/tools/make-fixture-dists" "$work/links"
cp -rL "$RUNFILES/examples/pep621-hello" "$work/hello"
cp -rL "$RUNFILES/examples/pbr-service" "$work/pbr"

run() {  # run LABEL DIR: prints seconds and "N cached, M run"
  local start end
  start=$(date +%s.%N)
  "$PBRX" build-images --cache-dir "$work/cache" --output "oci:$work/out" --find-links "$work/links" \
    "$2" >/dev/null 2>"$work/err"
  end=$(date +%s.%N)
  printf '%-40s %8.2f s   %s\n' "$1" "$(echo "$end - $start" | bc)" \
    "$(sed -nE 's/.*steps: (.*)$/\1/p' "$work/err")"
}
printf '%-40s %10s   %s\n' "build" "wall" "steps"
run "pep621-hello cold (empty cache)" "$work/hello"
run "pep621-hello warm" "$work/hello"
run "pbr-service cold-ish (base cached)" "$work/pbr"
run "pbr-service warm" "$work/pbr"
rm -rf "$work/cache"
run "pbr-service cold (empty cache)" "$work/pbr"
run "pbr-service warm" "$work/pbr"
rm -rf "$work"
