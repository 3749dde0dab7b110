#!/usr/bin/env bash
# Benchmark: pushing the images of two projects to Debian's docker-registry
# on loopback with `pbrx push-images`, against `skopeo copy` of the same
# images from the same layout to a second registry, each behind a counting
# proxy (tests/registry_proxy.py): wall time, blob bytes sent, requests.
# Cold (empty registries), then warm (everything already there).
#   bazel run -c opt //tools/bench:push_bench [-- WORK_DIR]
# The projects are built first with the cache in $PBRX_BENCH_CACHE
# (default ~/.cache/pbrx); that build is not measured.
set -euo pipefail
RUNFILES="${RUNFILES_DIR:-$0.runfiles}/pbrx"
PBRX="$RUNFILES/client/pbrx"
work="${1:-/tmp/pbrx-push-bench}"
cache="${PBRX_BENCH_CACHE:-$HOME/.cache/pbrx}"
rm -rf "$work" && mkdir -p "$work"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
T="$work" REPO="$RUNFILES"
source "$RUNFILES/tests/e2e_lib.sh"
source "$RUNFILES/tests/registry_lib.sh"
# registry NAME: docker-registry and a counting proxy in front; sets PORT.
registry() {
  start_registry "$1"
  start_proxy "$REG_PORT"
  PORT=$PROXY_PORT
}
stat_of() {  # stat_of PORT KEY
  curl -sf "http://127.0.0.1:$1/_proxy/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

for name in benchone benchtwo; do
  write_pyproject "$work/$name" "$name"
  mkdir -p "$work/$name/$name"
  printf 'def main():\n    print("%s")\n' "$name" >"$work/$name/$name/__init__.py"
done
registry pbrx && A=$PORT
registry skopeo && B=$PORT
"$PBRX" build-images --cache-dir "$cache" --output "oci:$work/out" --prefix "127.0.0.1:$A/bench" --tag v1 \
  "$work/benchone" "$work/benchtwo" >"$work/refs" 2>"$work/build.err" || { cat "$work/build.err"; exit 1; }

measure() {  # measure LABEL PORT COMMAND...: one row
  local port="$1" label="$2"; shift 2
  local b0 r0 start end
  b0=$(stat_of "$port" blob_bytes) r0=$(stat_of "$port" requests)
  start=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  end=$(date +%s.%N)
  printf '%-34s %8.3f s %14d %9d\n' "$label" "$(echo "$end - $start" | bc)" \
    "$(( $(stat_of "$port" blob_bytes) - b0 ))" "$(( $(stat_of "$port" requests) - r0 ))"
}
pbrx_push() {
  "$PBRX" push-images --cache-dir "$work/push-state" --from "oci:$work/out" --prefix "127.0.0.1:$A/bench" \
    --tag v1 "$work/benchone" "$work/benchtwo"
}
skopeo_copy() {
  local ref
  while read -r ref _; do
    skopeo copy -q --dest-tls-verify=false "oci:$work/out:$ref" "docker://127.0.0.1:$B/${ref#*/}"
  done <"$work/refs"
}
printf '%d images, %s of blobs in the layout\n' "$(wc -l <"$work/refs")" "$(du -sh "$work/out/blobs" | cut -f1)"
printf '%-34s %10s %14s %9s\n' "push" "wall" "blob bytes" "requests"
measure "$A" "pbrx push-images, cold" pbrx_push
measure "$B" "skopeo copy, cold" skopeo_copy
measure "$A" "pbrx push-images, warm" pbrx_push
measure "$B" "skopeo copy, warm" skopeo_copy
rm -rf "$work"
