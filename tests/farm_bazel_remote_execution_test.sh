#!/usr/bin/env bash
# Bazel 4.2.3 as a real REAPI client of the farm: --remote_executor points
# at pbrx-coordinator (Execution + proxied CAS/ActionCache/ByteStream), the
# actions run on a pbrx-executor in bubblewrap, the outputs match a local
# build byte for byte, and a rebuild after `bazel clean` is all cache hits.
# An action whose platform no executor offers fails with a clear message; an
# executor whose disk fills up hands the action back and another one runs it.
set -euo pipefail
source "$TEST_SRCDIR/pbrx/tests/bazel_client_lib.sh"
source "$TEST_SRCDIR/pbrx/tests/farm_lib.sh"
trap 'stop_farm; cleanup' EXIT

WS="$T/ws"
write_base_workspace "$WS"
cat >"$WS/BUILD" <<'B'
genrule(
    name = "gen_header",
    outs = ["generated.h"],
    cmd = "echo '#define GREETING \"hello from the pbrx farm\"' > $@",
)
cc_library(name = "lib", srcs = ["lib.cc"], hdrs = ["lib.h", "generated.h"])
cc_binary(name = "hello", srcs = ["main.cc"], deps = [":lib"])
genrule(
    name = "big",
    outs = ["big.bin"],
    cmd = "head -c 12000000 /dev/zero > $@",
)
genrule(
    name = "gpu_only",
    outs = ["gpu.txt"],
    cmd = "echo gpu > $@",
    exec_properties = {"gpu": "yes"},
)
B
cat >"$WS/lib.h" <<'C'
const char* Greeting();
C
cat >"$WS/lib.cc" <<'C'
#include "lib.h"
#include "generated.h"
const char* Greeting() { return GREETING; }
C
cat >"$WS/main.cc" <<'C'
#include <cstdio>
#include "lib.h"
int main() { std::puts(Greeting()); return 0; }
C

# The local reference build.
run_bazel "$T/local.log" build //:hello || { cat "$T/local.log"; fail "local build"; }
cp "$WS/bazel-bin/hello" "$T/hello.local"
run_bazel "$T/clean0.log" clean || fail "clean"

start_cache "$T/data"
start_coordinator "$CACHE_ADDR" --metrics-listen=127.0.0.1:0 --unmatched-timeout=3s
start_executor one "$COORD_ADDR" "$CACHE_ADDR" --slots=2
wait_executors 1
REMOTE=(--remote_executor="grpc://$COORD_ADDR" --remote_timeout=120 --spawn_strategy=remote)

run_bazel "$T/r1.log" build "${REMOTE[@]}" //:hello || { cat "$T/r1.log" "$T/coord.err" "$T/exec-one.log"; fail "remote build"; }
remote=$(process_count "$T/r1.log" remote)
echo "remote build: $remote actions executed remotely"
(( remote >= 4 )) || { cat "$T/r1.log"; fail "want >= 4 remote actions, got $remote"; }
[[ "$("$WS/bazel-bin/hello")" == "hello from the pbrx farm" ]] || fail "binary output"
cmp "$WS/bazel-bin/hello" "$T/hello.local" || fail "remote binary differs from the local build"
executed=$(metric 'pbrx_coordinator_steps_total{kind="action",outcome="executed"}')
echo "coordinator: $executed actions executed"
[[ "${executed%.*}" == "$remote" ]] || fail "coordinator counted $executed executions, Bazel $remote"
grep -q "registered as" "$T/exec-one.log" || fail "the executor did not register"

run_bazel "$T/clean.log" clean || fail "clean"
run_bazel "$T/r2.log" build "${REMOTE[@]}" //:hello || { cat "$T/r2.log"; fail "second remote build"; }
hits=$(process_count "$T/r2.log" "remote cache hit")
echo "after clean: $hits remote cache hits"
(( hits == remote )) || { cat "$T/r2.log"; fail "want $remote hits, got $hits"; }
cmp "$WS/bazel-bin/hello" "$T/hello.local" || fail "cached binary differs"
executed2=$(metric 'pbrx_coordinator_steps_total{kind="action",outcome="executed"}')
[[ "$executed2" == "$executed" ]] || fail "the rebuild executed actions ($executed -> $executed2)"

# A platform no executor offers: a clear failure after --unmatched-timeout.
set +e
run_bazel "$T/gpu.log" build "${REMOTE[@]}" //:gpu_only
rc=$?
set -e
[[ $rc != 0 ]] || fail "the gpu action should fail"
grep -q "no executor offers platform gpu=yes" "$T/gpu.log" || { cat "$T/gpu.log"; fail "no clear message for an unmatchable platform"; }
# A full disk on an executor: "tiny" works on an 8 MiB tmpfs. Its run of
# a 12 MB output fails on the full disk: handed back as the executor's
# fault (not the action's), it goes to the next executor; the build passes.
kill -TERM "${EXEC_PIDS[0]}"; wait "${EXEC_PIDS[0]}" 2>/dev/null || true
mkdir -p "$T/tiny"
mount -t tmpfs -o size=8m tmpfs "$T/tiny"
trap 'stop_farm; umount -l "$T/tiny" 2>/dev/null; cleanup' EXIT
start_executor tiny "$COORD_ADDR" "$CACHE_ADDR" --work-dir="$T/tiny" --min-free-space=2M
for _ in $(seq 1 100); do
  [[ "$(metric pbrx_coordinator_executors_connected)" == 1 ]] && break; sleep 0.1
done
run_bazel "$T/big.log" build "${REMOTE[@]}" //:big &
BAZEL=$!
for _ in $(seq 1 600); do
  [[ "$(metric 'pbrx_coordinator_retries_total{kind="action"}')" != 0 ]] && break; sleep 0.1
done
[[ "$(metric 'pbrx_coordinator_retries_total{kind="action"}')" == 1 ]] || fail "the full-disk run was not handed back"
start_executor two "$COORD_ADDR" "$CACHE_ADDR" --slots=1
wait "$BAZEL" || { cat "$T/big.log" "$T/exec-tiny.log"; fail "the build with a full-disk executor"; }
[[ $(stat -c %s "$WS/bazel-bin/big.bin") == 12000000 ]] || fail "big.bin has the wrong size"
[[ "$(metric 'pbrx_coordinator_attempts_total{kind="action",result="failed"}')" == 1 ]] || fail "want one failed attempt"

# Graceful stop: SIGTERM, exit 0, connected executors let go.
kill -TERM "$COORD_PID"
set +e
wait "$COORD_PID"
rc=$?
set -e
COORD_PID=""
[[ $rc == 0 ]] || fail "pbrx-coordinator exited $rc after SIGTERM"
grep -q "pbrx-coordinator: stopped cleanly" "$T/coord.err" || fail "no clean stop in the log"
echo PASS
