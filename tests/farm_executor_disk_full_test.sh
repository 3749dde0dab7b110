#!/usr/bin/env bash
# A full disk on an executor (issue 11's fault matrix): e1's work dir is a
# 96 MiB tmpfs, too small for the Debian base it must extract for a rootfs
# step. With e1 alone the build fails clearly: exit 1, the message names the
# executor's disk, not the project; nothing is recorded for the steps e1
# could not run, and e1 is still registered with its tmpfs emptied again.
# When e2 (a normal work dir) joins, the same build completes: the steps e1
# could not run run on e2, and every step that had completed is a hit.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
source "$REPO/tests/farm_lib.sh"
CACHE_PID=""
cleanup() {
  stop_farm
  [[ -n "$CACHE_PID" ]] && kill "$CACHE_PID" 2>/dev/null
  umount "$T/exec-e1" 2>/dev/null || true
}
trap cleanup EXIT

write_pyproject "$T/proj" diskdemo
mkdir -p "$T/proj/diskdemo"
printf 'def main():\n    print("diskdemo %s")\n' "$(date +%s%N)-$$" >"$T/proj/diskdemo/__init__.py"

seeded_cache "$T/cache"
launch_cache "$T/cache/db"
start_coordinator "$CACHE_ADDR" --metrics-listen=127.0.0.1:0 --unmatched-timeout=20s
mkdir -p "$T/exec-e1"
mount -t tmpfs -o size=96m tmpfs "$T/exec-e1"
start_executor e1 "$COORD_ADDR" "$CACHE_ADDR" --slots=1 --min-free-space=8M
wait_executors 1
FARM="grpc://$COORD_ADDR"
build() {  # build NAME: rc, $T/NAME.{json,err}
  rc=0
  "$PBRX" build-images --farm "$FARM" --output "oci:$T/$1" --json "$T/proj" >"$T/$1.json" 2>"$T/$1.err" || rc=$?
}

build full
[[ $rc == 1 ]] || { cat "$T/full.err" "$T/exec-e1.log"; fail "a build on a full executor: exit $rc"; }
python3 - "$T/full.json" <<'PY' || fail "the failure does not name the executor's disk: $(cat "$T/full.json")"
import json, re, sys
err = json.load(open(sys.argv[1]))["projects"][0]["error"]
assert re.search(r"exec-e1/(runs|layers)|No space left|MiB free|filled up", err), err
print(err.splitlines()[0])
PY
grep -q "e1" <("$PBRX" farm status --farm "$FARM") || fail "e1 left the farm"
used=$(df --output=used -B1M "$T/exec-e1" | tail -1 | tr -d ' ')
(( used < 16 )) || { find "$T/exec-e1" -maxdepth 3 | head -20; fail "e1's work dir still holds $used MiB"; }

start_executor e2 "$COORD_ADDR" "$CACHE_ADDR" --slots=2
wait_executors 2
build retry
[[ $rc == 0 ]] || { cat "$T/retry.err"; fail "the build with e2: exit $rc"; }
python3 - "$T/full.json" "$T/retry.json" <<'PY' || fail "the retry's steps"
import json, sys
steps = json.load(open(sys.argv[2]))["projects"][0]["steps"]
ran = [s["kind"] for s in steps if not s["cached"] and s["kind"] != "image-assembly"]
assert ran, steps  # what e1 could not run ran now
print("ran on e2:", ran)
PY
echo PASS
