#!/usr/bin/env bash
# A clock jump on the coordinator: its wall clock (CLOCK_REALTIME, moved by
# libfaketime for the coordinator alone) jumps 3 hours forward in the middle
# of a wheel build, and later 4 hours back. Its timeouts (executor
# heartbeats, lease deadlines, the build deadline) run on a monotonic clock
# and its scheduler tick sleeps on one, so:
#   1. the forward jump mid-build expires no executor and no lease: the
#      build completes with no step retried;
#   2. after it, an executor that falls silent (SIGSTOP) mid-build is still
#      noticed after --executor-timeout and its lease moves (a tick sleeping
#      until a wall-clock deadline would sleep 3 hours here);
#   3. after the jump back, the same holds (a wall-clock last-seen time
#      would lie 4 hours in the future and never expire).
# Every image runs. A SIGHUP after each jump makes the coordinator log a line
# whose timestamp shows its wall clock really moved.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
source "$REPO/tests/farm_lib.sh"
CACHE_PID=""
# After a failure the coordinator is killed, not stopped: a stop could wait
# for whatever failed.
trap 'rc=$?; for p in "${EXEC_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
      [[ $rc == 0 || -z "$COORD_PID" ]] || kill -9 "$COORD_PID" 2>/dev/null || true; stop_farm; [[ -n "$CACHE_PID" ]] && kill "$CACHE_PID" 2>/dev/null; true' EXIT
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[[ -f "$FAKETIME_LIB" ]] || fail "$FAKETIME_LIB is missing (tools/bootstrap installs libfaketime)"

RUN="$(date +%s%N)-$$"
make_sdist "$T/links1" pbrxtick 1.0 12
make_sdist "$T/links2" pbrxtick 1.1 12
make_sdist "$T/links3" pbrxtick 1.2 12
write_pyproject "$T/proj" clockdemo "pbrxtick>=1.0"
mkdir -p "$T/proj/clockdemo"
cat >"$T/proj/clockdemo/__init__.py" <<'PY'
import pbrxtick
def main():
    print("clockdemo", pbrxtick.VALUE)
PY

seeded_cache "$T/cache"
launch_cache "$T/cache/db"

# The coordinator's wall clock is the real one plus the offset in this file
# (read at every clock call); its monotonic clock is left alone.
echo "+0" >"$T/offset"
LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$T/offset" FAKETIME_NO_CACHE=1 \
  FAKETIME_DONT_FAKE_MONOTONIC=1 \
  start_coordinator "$CACHE_ADDR" --metrics-listen=127.0.0.1:0 --executor-timeout=10s --lease-grace=1m
start_executor e1 "$COORD_ADDR" "$CACHE_ADDR" --slots=2
start_executor e2 "$COORD_ADDR" "$CACHE_ADDR" --slots=2
wait_executors 2
FARM="grpc://$COORD_ADDR"
connected() { metric pbrx_coordinator_executors_connected; }
retried() { metric 'pbrx_coordinator_retries_total{kind="wheel-build"}'; }

# start_build N LINKS VERSION: starts build N in the background (CLIENT), waits
# until its pbrxtick VERSION wheel build runs and sets SLOW to the executor (e1/e2)
# running it.
start_build() {
  "$PBRX" build-images --farm "$FARM" --output "oci:$T/out$1" --find-links "$2" \
    "$T/proj" >"$T/build$1.out" 2>"$T/build$1.err" &
  CLIENT=$!
  SLOW=""
  for _ in $(seq 1 600); do
    for e in e1 e2; do
      if find "$T/exec-$e/runs" -path "*sdist/pbrxtick-$3.tar.gz" 2>/dev/null | grep -q .; then SLOW=$e; return 0; fi
    done
    sleep 0.1
  done
  fail "build $1: the pbrxtick $3 wheel build never started"
}

# jump OFFSET HOURS: sets the coordinator's clock offset (e.g. +3h) and waits
# until its wall clock is HOURS from ours. libfaketime reads the file again
# within a few seconds; until then the line the coordinator logs on SIGHUP
# is dated now, after it is dated HOURS from now.
jump() {
  echo "$1" >"$T/offset"
  local ahead=0 from stamp
  for _ in $(seq 1 40); do
    from=$(next_line "$T/coord.err")
    kill -HUP "$COORD_PID"
    sleep 0.5
    stamp=$(tail -n "+$from" "$T/coord.err" | grep -o '^[IW][0-9-]*T[0-9:.]*Z.*SIGHUP' | head -n1 | cut -c2-24 || true)
    [[ -n "$stamp" ]] || continue
    ahead=$(( $(date -d "$stamp" +%s) - $(date +%s) ))
    (( ahead > $2 * 3600 - 120 && ahead < $2 * 3600 + 120 )) && break
  done
  (( ahead > $2 * 3600 - 120 && ahead < $2 * 3600 + 120 )) \
    || fail "the coordinator's wall clock is ${ahead}s from ours after 20 s, want $2h"
  echo "the coordinator's wall clock is now ${ahead}s from ours"
}

# finish_build N VERSION: waits for build N and runs its image.
finish_build() {
  wait "$CLIENT" || { cat "$T/build$1.err"; tail -n 20 "$T/coord.err"; fail "build $1"; }
  local out
  out=$(run_image "out$1" clockdemo:latest)
  [[ "$out" == "clockdemo pbrxtick $2" ]] || fail "the image of build $1 runs: $out"
}

# freeze_slow N: stops the executor running build N's wheel build (SIGSTOP:
# silent, its connection open) and waits for the build; the lease must have
# moved to the other executor after --executor-timeout.
freeze_slow() {
  local victim="$SLOW" pid
  pid=${EXEC_PIDS[$(( ${victim#e} - 1 ))]}
  kill -STOP "$pid"
  echo "froze executor $victim during build $1's wheel build"
  local before
  before=$(grep -c "executor $victim (.*) dropped: no heartbeat for 10s" "$T/coord.err" || true)
  local dropped=0
  for _ in $(seq 1 300); do
    dropped=$(grep -c "executor $victim (.*) dropped: no heartbeat for 10s" "$T/coord.err" || true)
    [[ "$dropped" -gt "$before" ]] && break
    sleep 0.1
  done
  [[ "$dropped" == $(( before + 1 )) ]] \
    || { grep "$victim" "$T/coord.err"; fail "build $1: the frozen executor $victim was not dropped within 30 s of its silence"; }
  finish_build "$1" "$2"
  kill -CONT "$pid"
  for _ in $(seq 1 600); do [[ "$(connected)" == 2 ]] && return 0; sleep 0.1; done
  fail "executor $victim did not register again within 60 s of SIGCONT"
}

# 1. Forward 3 h mid-build: nothing expires.
start_build 1 "$T/links1" 1.0
jump "+3h" 3
finish_build 1 1.0
[[ "$(retried)" == 0 ]] || fail "a wheel build was retried across the jump forward ($(retried))"
if grep -E "no heartbeat|stopped reporting|ran past its deadline" "$T/coord.err"; then
  fail "the coordinator expired an executor or a lease on a jump forward"
fi
[[ "$(connected)" == 2 ]] || fail "an executor was dropped after the jump forward"

# 2. After it, a silent executor is still noticed.
start_build 2 "$T/links2" 1.1
freeze_slow 2 1.1
[[ "$(retried)" == 1 ]] || fail "want the frozen executor's wheel build retried once, got $(retried)"

# 3. Back 4 h mid-build, then an executor falls silent: still noticed.
start_build 3 "$T/links3" 1.2
jump "-1h" -1
freeze_slow 3 1.2
[[ "$(retried)" == 2 ]] || fail "want the second frozen executor's wheel build retried, got $(retried) retries in all"
if grep -E "stopped reporting|ran past its deadline" "$T/coord.err"; then
  fail "the coordinator expired a lease on its own"
fi
echo "PASS"
