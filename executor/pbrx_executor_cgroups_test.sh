#!/usr/bin/env bash
# pbrx-executor never falls back to rlimits silently: on a host without
# writable memory/pids cgroups (here: --cgroup-root pointing at an empty
# directory) it refuses to start, exit 1, naming the flag that allows it;
# with --allow-no-cgroups it starts and says so in its log and in the
# pbrx_executor_sandbox_limits metric. The --action-* limits are validated
# (exit 2 naming the flag) and published as metrics.
set -uo pipefail
EXEC="$TEST_SRCDIR/pbrx/executor/pbrx-executor"
T="$TEST_TMPDIR"
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$T/no-cgroups"
"$EXEC" --coordinator=grpc://127.0.0.1:1 --cache=grpc://127.0.0.1:1 --work-dir="$T/w1" \
  --cgroup-root="$T/no-cgroups" >"$T/out1" 2>"$T/err1"
rc=$?
[[ $rc == 1 ]] || { cat "$T/err1"; fail "want exit 1 without cgroups, got $rc"; }
grep -qF "pbrx-executor: no writable memory and pids cgroups under $T/no-cgroups: step limits would be rlimits only; give --allow-no-cgroups to run like that" "$T/err1" \
  || { cat "$T/err1"; fail "refusal message"; }
"$EXEC" --coordinator=grpc://127.0.0.1:1 --cache=grpc://127.0.0.1:1 --work-dir="$T/w2" \
  --cgroup-root="$T/no-cgroups" --allow-no-cgroups --metrics-listen=127.0.0.1:0 \
  >"$T/out2" 2>"$T/err2" &
pid=$!
ok=""
for _ in $(seq 1 100); do
  grep -q "running WITHOUT cgroups (--allow-no-cgroups)" "$T/err2" 2>/dev/null && { ok=1; break; }
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$ok" ]] || { cat "$T/err2"; kill -TERM "$pid"; fail "no warning when running without cgroups"; }
# metric_value ADDR SERIES: the value of one whole series from /metrics.
metric_value() {
  curl -sf "http://$1/metrics" | awk -v s="$2" '$1 == s { print $2 }'
}
for _ in $(seq 1 50); do
  addr=$(sed -n 's|.*metrics on http://\([^/]*\)/metrics.*|\1|p' "$T/err2")
  [[ -n "$addr" ]] && break
  sleep 0.1
done
[[ -n "$addr" ]] || { cat "$T/err2"; kill -TERM "$pid"; fail "no metrics address logged"; }
m=$(metric_value "$addr" 'pbrx_executor_sandbox_limits{mechanism="rlimit"}')
[[ "$m" == 1 ]] || { kill -TERM "$pid"; fail "rlimit mechanism metric is '$m', want 1"; }
m=$(metric_value "$addr" 'pbrx_executor_sandbox_limits{mechanism="cgroup_v1"}')
[[ "$m" == 0 ]] || { kill -TERM "$pid"; fail "cgroup_v1 metric is '$m', want 0"; }
kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null

# With the host's cgroups: the limits given are the limits published.
"$EXEC" --coordinator=grpc://127.0.0.1:1 --cache=grpc://127.0.0.1:1 --work-dir="$T/w3" \
  --action-memory=512M --action-pids=100 --action-timeout-max=90s --action-tmp-size=64M \
  --metrics-listen=127.0.0.1:0 >"$T/out3" 2>"$T/err3" &
pid=$!
addr=""
for _ in $(seq 1 100); do
  addr=$(sed -n 's|.*metrics on http://\([^/]*\)/metrics.*|\1|p' "$T/err3")
  [[ -n "$addr" ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$addr" ]] || { cat "$T/err3"; kill -TERM "$pid"; fail "executor with cgroups did not start"; }
grep -qF "limits per action (cgroup_v" "$T/err3" || { cat "$T/err3"; kill -TERM "$pid"; fail "log names no cgroup mechanism"; }
for want in 'memory_bytes 536870912' 'pids 100' 'timeout_max_seconds 90' 'tmp_bytes 67108864'; do
  m=$(metric_value "$addr" "pbrx_executor_action_limit{limit=\"${want% *}\"}")
  [[ "$m" == "${want#* }" ]] || { kill -TERM "$pid"; fail "action_limit ${want% *} is '$m', want ${want#* }"; }
done
m=$(metric_value "$addr" 'pbrx_executor_sandbox_limits{mechanism="rlimit"}')
[[ "$m" == 0 ]] || { kill -TERM "$pid"; fail "rlimit metric is '$m' on a host with cgroups"; }
kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null

# Out-of-range limits: exit 2 naming the flag.
check_usage() {  # WANT_MESSAGE FLAG...
  local want="$1"; shift
  "$EXEC" --coordinator=grpc://127.0.0.1:1 --cache=grpc://127.0.0.1:1 --work-dir="$T/w4" "$@" \
    >/dev/null 2>"$T/err4"
  local rc=$?
  [[ $rc == 2 ]] || { cat "$T/err4"; fail "$* exited $rc, want 2"; }
  grep -qF "pbrx-executor: $want (see --help)" "$T/err4" || { cat "$T/err4"; fail "$*: message"; }
}
check_usage "--action-memory 1024 bytes is below the minimum 16M" --action-memory=1k
check_usage "--action-pids 3 is outside 16..4194304" --action-pids=3
check_usage "--action-timeout-max 0 is outside 1s..168h" --action-timeout-max=0s
check_usage "--action-tmp-size 0 bytes is below the minimum 1M" --action-tmp-size=0
echo PASS
