#!/usr/bin/env bash
# pbrx-executor never falls back to rlimits silently: on a host without
# writable memory/pids cgroups (here: --cgroup-root pointing at an empty
# directory) it refuses to start, exit 1, naming the flag that allows it;
# with --allow-no-cgroups it starts and says so in its log.
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
  --cgroup-root="$T/no-cgroups" --allow-no-cgroups >"$T/out2" 2>"$T/err2" &
pid=$!
ok=""
for _ in $(seq 1 100); do
  grep -q "running WITHOUT cgroups (--allow-no-cgroups)" "$T/err2" 2>/dev/null && { ok=1; break; }
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
[[ -n "$ok" ]] || { cat "$T/err2"; fail "no warning when running without cgroups"; }
echo PASS
