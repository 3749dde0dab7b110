# Helpers for tests that drive Debian's Bazel 4.2.3 against our servers.
# Sourced by the *_test.sh scripts; expects TEST_TMPDIR and TEST_SRCDIR.

T="${TEST_TMPDIR:?}"
export HOME="$T/home"
mkdir -p "$HOME"
CACHE_BIN="$TEST_SRCDIR/pbrx/cache/pbrx-cache"
CACHE_PID=""

fail() { echo "FAIL: $*" >&2; exit 1; }
source "$TEST_SRCDIR/pbrx/tests/daemon_lib.sh"

# start_cache DATA_DIR [FLAGS...]: starts pbrx-cache on port 0, sets
# CACHE_ADDR and CACHE_PID, and CACHE_METRICS_ADDR when a --metrics-listen
# flag is given (port 0 too: the daemon logs the port it took). Waits
# (bounded) for the address line.
start_cache() {
  local data="$1"; shift
  : > "$T/cache.out"
  local from
  from=$(next_line "$T/cache.err")
  "$CACHE_BIN" --listen=127.0.0.1:0 --data-dir="$data" "$@" >"$T/cache.out" 2>>"$T/cache.err" &
  CACHE_PID=$!
  for _ in $(seq 1 300); do
    if [[ -s "$T/cache.out" ]]; then
      CACHE_ADDR="$(head -n1 "$T/cache.out")"
      if [[ " $* " == *" --metrics-listen="* ]]; then
        CACHE_METRICS_ADDR=$(metrics_addr "$T/cache.err" "$from")
      fi
      return 0
    fi
    kill -0 "$CACHE_PID" 2>/dev/null || { cat "$T/cache.err" >&2; fail "pbrx-cache exited"; }
    sleep 0.1
  done
  fail "pbrx-cache printed no address within 30 s"
}

stop_cache() {  # stop_cache SIGNAL
  [[ -n "$CACHE_PID" ]] || return 0
  kill "-$1" "$CACHE_PID" 2>/dev/null || true
  wait "$CACHE_PID" 2>/dev/null || true
  CACHE_PID=""
}

cleanup() {
  stop_cache KILL
  if [[ -d "${WS:-}" ]]; then
    (cd "$WS" && bazel --batch --output_user_root="$T/bazelroot" shutdown >/dev/null 2>&1) || true
  fi
}
trap cleanup EXIT

# write_base_workspace DIR: a workspace that builds C++ offline with Debian's
# Bazel (same shims as ours, written here so the test is self-contained).
write_base_workspace() {
  local ws="$1"
  mkdir -p "$ws/shim/rules_cc/cc"
  cat >"$ws/WORKSPACE" <<'WS'
workspace(name = "client_ws")
local_repository(name = "rules_cc", path = "shim/rules_cc")
local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")
local_repository(name = "platforms", path = "/usr/share/bazel/tools/platforms")
WS
  echo 'workspace(name = "rules_cc")' >"$ws/shim/rules_cc/WORKSPACE"
  : >"$ws/shim/rules_cc/BUILD"
  : >"$ws/shim/rules_cc/cc/BUILD"
  cat >"$ws/shim/rules_cc/cc/defs.bzl" <<'DEFS'
cc_binary = native.cc_binary
cc_import = native.cc_import
cc_library = native.cc_library
cc_proto_library = native.cc_proto_library
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
fdo_prefetch_hints = native.fdo_prefetch_hints
fdo_profile = native.fdo_profile
objc_import = native.objc_import
objc_library = native.objc_library
DEFS
  echo 'build --cxxopt=-std=c++17 --nosandbox_debug' >"$ws/.bazelrc"
}

# run_bazel LOG ARGS...: runs bazel in $WS in batch mode with its own output
# root; the combined output goes to LOG. Returns Bazel's exit code.
run_bazel() {
  local log="$1"; shift
  (cd "$WS" && bazel --batch --output_user_root="$T/bazelroot" "$@") >"$log" 2>&1
}

# process_count LOG KIND: from Bazel's "INFO: N processes: a X, b Y." line,
# the count of KIND ("remote cache hit", "internal", "local", ...); 0 if absent.
process_count() {
  local line
  line="$(grep -E '^INFO: [0-9]+ process(es)?: ' "$1" | tail -n1 | sed -E 's/^INFO: [0-9]+ process(es)?: //; s/\.$//')"
  local total=0
  IFS=',' read -ra parts <<<"$line"
  for p in "${parts[@]}"; do
    p="${p# }"
    local n="${p%% *}" kind="${p#* }"
    [[ "$kind" == "$2" ]] && total=$((total + n))
  done
  echo "$total"
}

# process_total LOG: the N of "INFO: N processes".
process_total() {
  grep -E '^INFO: [0-9]+ process(es)?: ' "$1" | tail -n1 | sed -E 's/^INFO: ([0-9]+) .*/\1/'
}
