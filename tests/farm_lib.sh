# Helpers for farm tests: start pbrx-coordinator and pbrx-executor processes
# (sourced after bazel_client_lib.sh or e2e_lib.sh; expects T and
# TEST_SRCDIR).
source "$TEST_SRCDIR/pbrx/tests/daemon_lib.sh"
COORD_BIN="$TEST_SRCDIR/pbrx/coordinator/pbrx-coordinator"
EXEC_BIN="$TEST_SRCDIR/pbrx/executor/pbrx-executor"
COORD_PID=""
EXEC_PIDS=()

# start_coordinator CACHE_ADDR [FLAGS...]: sets COORD_ADDR, COORD_PID, and
# METRICS_ADDR when a --metrics-listen flag is given (port 0: the daemon
# takes its own port and says which). With COORD_UNPRIVILEGED set it runs
# as an unprivileged user with an empty environment and nowhere to write.
start_coordinator() {
  local cache="$1"; shift
  : >"$T/coord.out"
  local from
  from=$(next_line "$T/coord.err")
  if [[ -n "${COORD_UNPRIVILEGED:-}" ]]; then
    # As "nobody", with no environment at all (no PATH: no tool can be
    # found) and no writable directory: in its own mount namespace the
    # places nobody may write (/tmp, /var/tmp, /dev/shm, /run/lock) are
    # read-only, cwd is /. The binary is copied where nobody can read it.
    COORD_SANDBOX=$(mktemp -d /tmp/pbrx-coord-XXXXXX)
    chmod 755 "$COORD_SANDBOX"
    install -m 755 "$COORD_BIN" "$COORD_SANDBOX/pbrx-coordinator"
    unshare --mount --propagation private -- sh -c \
      'for d in /tmp /var/tmp /dev/shm /run/lock; do
         [ -d "$d" ] || continue
         mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" || exit 1
       done
       cd / && exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
         --bounding-set=-all -- env -i "$@"' \
      sh "$COORD_SANDBOX/pbrx-coordinator" --listen=127.0.0.1:0 \
      --cache="grpc://$cache" "$@" >"$T/coord.out" 2>>"$T/coord.err" &
  else
    "$COORD_BIN" --listen=127.0.0.1:0 --cache="grpc://$cache" "$@" \
      >"$T/coord.out" 2>>"$T/coord.err" &
  fi
  COORD_PID=$!
  for _ in $(seq 1 300); do
    if [[ -s "$T/coord.out" ]]; then
      COORD_ADDR="$(head -n1 "$T/coord.out")"
      if [[ " $* " == *" --metrics-listen="* ]]; then METRICS_ADDR=$(metrics_addr "$T/coord.err" "$from"); fi
      return 0
    fi
    kill -0 "$COORD_PID" 2>/dev/null || { cat "$T/coord.err" >&2; fail "pbrx-coordinator exited"; }
    sleep 0.1
  done
  fail "pbrx-coordinator printed no address within 30 s"
}

# launch_cache DATA_DIR [FLAGS...]: starts pbrx-cache on loopback; sets
# CACHE_ADDR and CACHE_PID (stderr appended to $T/cache.err).
launch_cache() {
  local db="$1"; shift
  : >"$T/cache.out"
  "$TEST_SRCDIR/pbrx/cache/pbrx-cache" --listen=127.0.0.1:0 --data-dir="$db" "$@" \
    >"$T/cache.out" 2>>"$T/cache.err" &
  CACHE_PID=$!
  for _ in $(seq 1 300); do
    if [[ -s "$T/cache.out" ]]; then CACHE_ADDR=$(head -n1 "$T/cache.out"); return 0; fi
    kill -0 "$CACHE_PID" 2>/dev/null || { cat "$T/cache.err" >&2; fail "pbrx-cache exited"; }
    sleep 0.1
  done
  fail "pbrx-cache printed no address within 30 s"
}

# start_executor NAME COORD_ADDR CACHE_ADDR [FLAGS...]: appends to EXEC_PIDS.
start_executor() {
  local name="$1" coord="$2" cache="$3"; shift 3
  "$EXEC_BIN" --name="$name" --coordinator="grpc://$coord" --cache="grpc://$cache" \
    --work-dir="$T/exec-$name" "$@" >>"$T/exec-$name.log" 2>&1 &
  EXEC_PIDS+=($!)
}

# wait_executors N: until the coordinator's metrics show N executors
# (needs --metrics-listen; METRICS_ADDR set by the caller).
wait_executors() {
  for _ in $(seq 1 300); do
    local n
    n=$(curl -sf --noproxy '*' "http://$METRICS_ADDR/metrics" | awk '/^pbrx_coordinator_executors_connected / {print int($2)}')
    [[ "${n:-0}" -ge "$1" ]] && return 0
    sleep 0.1
  done
  fail "fewer than $1 executors registered within 30 s"
}

# metric NAME_WITH_LABELS: its value from the coordinator (0 if absent).
metric() {
  curl -sf --noproxy '*' "http://$METRICS_ADDR/metrics" \
    | awk -v m="$1" 'index($0, m" ") == 1 {print $2; found=1} END {if (!found) print 0}'
}

stop_farm() {
  for p in "${EXEC_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${EXEC_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  EXEC_PIDS=()
  if [[ -n "$COORD_PID" ]]; then kill -TERM "$COORD_PID" 2>/dev/null || true; wait "$COORD_PID" 2>/dev/null || true; fi
  COORD_PID=""
  if [[ -n "${COORD_SANDBOX:-}" ]]; then rm -rf "$COORD_SANDBOX"; COORD_SANDBOX=""; fi
}
