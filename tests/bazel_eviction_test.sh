#!/usr/bin/env bash
# Fills pbrx-cache past --max-size with Bazel outputs, then checks that
# eviction happened, that the store stayed under the bound, and that an
# Action Cache entry whose output blob was evicted is a miss (Bazel re-runs
# the action) — never a hit that then fails to download.
set -euo pipefail
source "$TEST_SRCDIR/pbrx/tests/bazel_client_lib.sh"

WS="$T/ws"
write_base_workspace "$WS"
# Six actions, each writing a distinct 64 KiB output: 384 KiB in all, against
# a 200 KiB bound.
{
  for i in 1 2 3 4 5 6; do
    cat <<G
genrule(
    name = "blob$i",
    outs = ["blob$i.bin"],
    cmd = "head -c 65536 /dev/zero | tr '\\\\0' '$i' > \$@",
)
G
  done
  echo 'filegroup(name = "all", srcs = [":blob1", ":blob2", ":blob3", ":blob4", ":blob5", ":blob6"])'
} >"$WS/BUILD"

MAX=204800
start_cache "$T/data" --max-size=$MAX --min-age=0s --metrics-listen=127.0.0.1:0
REMOTE=(--remote_cache="grpc://$CACHE_ADDR" --spawn_strategy=local --remote_timeout=60 --jobs=1)

run_bazel "$T/b1.log" build "${REMOTE[@]}" //:all || { cat "$T/b1.log"; fail "first build"; }
for i in 1 2 3 4 5 6; do
  [[ $(stat -c %s "$WS/bazel-bin/blob$i.bin") == 65536 ]] || fail "blob$i size"
done

metrics=$(curl -sf --noproxy '*' "http://$CACHE_METRICS_ADDR/metrics") || fail "metrics scrape"
evictions=$(echo "$metrics" | sed -nE 's/^pbrx_cache_evictions_total ([0-9.e+]+)$/\1/p')
stored=$(echo "$metrics" | sed -nE 's/^pbrx_cache_stored_bytes ([0-9.e+]+)$/\1/p')
echo "after the first build: evictions=$evictions stored_bytes=$stored (bound $MAX)"
python3 -c "import sys; e,s=float('$evictions'),float('$stored'); sys.exit(0 if e >= 3 and s <= $MAX else 1)" \
  || fail "want >= 3 evictions and stored <= $MAX"

run_bazel "$T/clean.log" clean || fail "clean"
# Re-run actions must not upload: their uploads would evict the outputs that
# are still cached before Bazel looks them up.
run_bazel "$T/b2.log" build "${REMOTE[@]}" --noremote_upload_local_results //:all || { cat "$T/b2.log"; fail "second build failed: an AC hit pointed at an evicted blob?"; }
grep -qiE 'CacheNotFoundException|Failed to fetch|Missing digest' "$T/b2.log" && { cat "$T/b2.log"; fail "download failure in the log"; }
hits=$(process_count "$T/b2.log" "remote cache hit")
ran=$(process_count "$T/b2.log" local)
echo "second build: $hits remote cache hits, $ran executed again"
(( hits + ran == 6 )) || { cat "$T/b2.log"; fail "want 6 actions, got $hits hits + $ran runs"; }
(( ran >= 3 )) || fail "at most 3 of 6 outputs fit under the bound: want >= 3 re-runs, got $ran"
(( hits >= 1 )) || fail "the last outputs should still be cached, got no hits"
for i in 1 2 3 4 5 6; do
  [[ $(tr -d "$i" <"$WS/bazel-bin/blob$i.bin" | wc -c) == 0 ]] || fail "blob$i content"
done
misses=$(curl -sf --noproxy '*' "http://$CACHE_METRICS_ADDR/metrics" \
  | sed -nE 's/^pbrx_cache_action_cache_lookups_total\{result="miss"\} ([0-9.e+]+)$/\1/p')
echo "action cache misses in both builds: $misses"
python3 -c "import sys; sys.exit(0 if float('$misses') == 6 + $ran else 1)" \
  || fail "want 6 + $ran action cache misses, metrics say $misses"
echo PASS
