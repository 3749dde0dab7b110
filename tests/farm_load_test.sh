#!/usr/bin/env bash
# Load on the real pbrx-cache and pbrx-coordinator (tools/bench:farm_load_bench
# with fewer clients and a shorter run than the bench's 256 x 60 s): no
# error but the documented RESOURCE_EXHAUSTED, every acknowledged write
# readable afterwards unless evicted (a 32 MiB cache: eviction runs under
# the load), the stored bytes within --max-size.
set -euo pipefail
R="$TEST_SRCDIR/pbrx"
fail() { echo "FAIL: $*" >&2; exit 1; }
"$R/tools/bench/farm_load_bench" --clients=48 --seconds=15s --executors=2 \
  --max-size=32M --work-dir="$TEST_TMPDIR/load" \
  --cache-bin="$R/cache/pbrx-cache" --coordinator-bin="$R/coordinator/pbrx-coordinator" \
  >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || { cat "$TEST_TMPDIR/out" "$TEST_TMPDIR/err"; fail "a promise was broken"; }
cat "$TEST_TMPDIR/out"
grep -qE '^\| other errors +\| +0 \|$' "$TEST_TMPDIR/out" || fail "errors other than RESOURCE_EXHAUSTED"
grep -qE '^\| acknowledged writes unreadable +\| +0 \|$' "$TEST_TMPDIR/out" || fail "acknowledged writes lost"
acked=$(sed -nE 's/^\| acknowledged writes +\| +([0-9]+) \|$/\1/p' "$TEST_TMPDIR/out")
(( acked > 100 )) || fail "only $acked acknowledged writes: the load did not run"
grep -qE '^\| cache evictions +\| +[1-9]' "$TEST_TMPDIR/out" || fail "the cache never had to evict: raise the load"
for op in FindMissingBlobs BatchUpdateBlobs ByteStream.Write ByteStream.Read BatchReadBlobs GetActionResult Execute; do
  grep -qE "^\| $op calls/s +\| +[1-9]" "$TEST_TMPDIR/out" || fail "no $op calls"
done
echo PASS
