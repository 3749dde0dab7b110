#!/usr/bin/env bash
# Steps for another platform (--platform linux/arm64) on an amd64 host: with
# Debian's qemu-user-static registered in binfmt_misc (this test registers
# qemu-aarch64 when it is not), pbrx-executor offers platform=linux/arm64 by
# itself, and Bazel 4.2.3 runs an action on an arm64 root file system (bash
# and coreutils of Debian's arm64 archive, made by mmdebstrap) through the
# farm: its `uname -m` says aarch64. An executor told its platforms with
# --platform does not offer arm64, and the same action is refused naming it.
set -euo pipefail
source "$TEST_SRCDIR/pbrx/tests/bazel_client_lib.sh"
source "$TEST_SRCDIR/pbrx/tests/farm_lib.sh"
trap 'stop_farm; cleanup' EXIT

# qemu-user's aarch64 handler, as Debian's qemu-user-static describes it
# (flags OPF: F keeps its interpreter usable inside sandboxes).
BINFMT=/proc/sys/fs/binfmt_misc
[[ -e "$BINFMT/register" ]] || mount -t binfmt_misc binfmt_misc "$BINFMT" \
  || fail "cannot mount binfmt_misc at $BINFMT"
if [[ ! -e "$BINFMT/qemu-aarch64" ]]; then
  [[ -f /usr/lib/binfmt.d/qemu-aarch64.conf ]] || fail "qemu-user-static is not installed (tools/bootstrap installs it)"
  cat /usr/lib/binfmt.d/qemu-aarch64.conf >"$BINFMT/register" || fail "cannot register qemu-aarch64"
fi
grep -q '^enabled$' "$BINFMT/qemu-aarch64" && grep -q '^flags: .*F' "$BINFMT/qemu-aarch64" \
  || fail "the qemu-aarch64 handler is not enabled with the F flag: $(cat "$BINFMT/qemu-aarch64")"

# An arm64 root file system as one layer: bash, coreutils and what they
# need, extracted (not configured: nothing runs at build time); device
# nodes left out (layers may not carry them).
mmdebstrap --quiet --mode=root --arch=arm64 --variant=extract --include=bash,coreutils \
  bookworm "$T/arm64.tar" 2>"$T/mmdebstrap.err" || { cat "$T/mmdebstrap.err"; fail "mmdebstrap --arch=arm64"; }
WS="$T/ws"
write_base_workspace "$WS"
python3 - "$T/arm64.tar" "$WS/arm64-root.tar.gz" <<'PY'
import gzip, sys, tarfile
with tarfile.open(sys.argv[1]) as src, open(sys.argv[2], "wb") as raw:
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
         tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as dst:
        for m in src.getmembers():
            if m.isdev() or m.isfifo() or m.name.startswith("./usr/share/doc"):
                continue
            dst.addfile(m, src.extractfile(m) if m.isfile() else None)
PY
LAYER="$(sha256sum "$WS/arm64-root.tar.gz" | cut -d' ' -f1)/$(stat -c %s "$WS/arm64-root.tar.gz")"
# The layer is an input of the action, so Bazel puts it into the CAS.
cat >"$WS/BUILD" <<B
genrule(
    name = "arch",
    srcs = ["arm64-root.tar.gz"],
    outs = ["arch.txt"],
    cmd = "uname -m > \$@; /bin/bash --version | head -n1 >> \$@",
    exec_properties = {"rootfs": "$LAYER", "platform": "linux/arm64"},
)
B

start_cache "$T/data"
start_coordinator "$CACHE_ADDR" --metrics-listen=127.0.0.1:0 --unmatched-timeout=3s
start_executor arm "$COORD_ADDR" "$CACHE_ADDR" --slots=1
wait_executors 1
grep -q "platform=linux/arm64" "$T/exec-arm.log" \
  || { cat "$T/exec-arm.log"; fail "the executor does not offer platform=linux/arm64"; }
REMOTE=(--remote_executor="grpc://$COORD_ADDR" --remote_timeout=300 --spawn_strategy=remote)
run_bazel "$T/arm.log" build "${REMOTE[@]}" //:arch || { cat "$T/arm.log" "$T/exec-arm.log"; fail "the arm64 action"; }
got=$(cat "$WS/bazel-bin/arch.txt")
echo "arm64 action: $got"
[[ "$(head -n1 <<<"$got")" == aarch64 ]] || fail "uname -m in the arm64 root file system: '$got'"
[[ "$(tail -n1 <<<"$got")" == "GNU bash, version 5."*"(aarch64-unknown-linux-gnu)" ]] \
  || fail "the arm64 bash did not run: '$got'"

# An executor whose platforms are given does not look at binfmt_misc.
kill -TERM "${EXEC_PIDS[0]}"; wait "${EXEC_PIDS[0]}" 2>/dev/null || true
start_executor told "$COORD_ADDR" "$CACHE_ADDR" --slots=1 --platform=platform=linux/riscv64
for _ in $(seq 1 100); do
  [[ "$(metric pbrx_coordinator_executors_connected)" == 1 ]] && break; sleep 0.1
done
run_bazel "$T/clean.log" clean || fail "clean"
set +e
run_bazel "$T/told.log" build "${REMOTE[@]}" --noremote_accept_cached //:arch
rc=$?
set -e
[[ $rc != 0 ]] || fail "an executor told --platform=platform=linux/riscv64 ran the arm64 action"
grep -q "no executor offers platform platform=linux/arm64" "$T/told.log" \
  || { cat "$T/told.log"; fail "no clear message for the arm64 action"; }
echo PASS
