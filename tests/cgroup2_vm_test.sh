#!/usr/bin/env bash
# The sandbox's limits on a real cgroup v2 hierarchy (Debian 12's default),
# which this host does not have (it mounts memory and pids as v1
# controllers). A virtual machine does: Debian's own kernel (linux-image-amd64
# from the mirror) boots under qemu with only cgroup2 mounted at
# /sys/fs/cgroup, its root file system this host's, shared read-only over
# 9p. pbrx-executor (the real binary) runs in it with --action-memory=64M and
# --action-pids=32 and dials the coordinator and cache on this host through
# qemu's user-mode network; Bazel 4.2.3 sends actions through the farm:
#   - an action within the limits succeeds, in a pbrx sandbox cgroup;
#   - one that touches 512 MiB is killed: "killed: memory limit (64 MiB)
#     exceeded" (read from the v2 group's memory.events oom_kill);
#   - one that forks without end fails on the refused fork: "exit 5
#     (process limit 32 reached)" (pids.events max).
# The executor's log names the mechanism (cgroup_v2) and its metric
# pbrx_executor_sandbox_limits{mechanism="cgroup_v2"} is 1.
# qemu runs with software emulation (TCG): nested KVM on the farm's own CI
# machines boots too slowly to use.
set -euo pipefail
source "$TEST_SRCDIR/pbrx/tests/bazel_client_lib.sh"
source "$TEST_SRCDIR/pbrx/tests/farm_lib.sh"
QEMU_PID=""
stop_vm() {
  if [[ -n "$QEMU_PID" ]]; then kill -KILL "$QEMU_PID" 2>/dev/null || true; wait "$QEMU_PID" 2>/dev/null || true; fi
  QEMU_PID=""
}
trap 'stop_vm; stop_farm; cleanup' EXIT

for tool in qemu-system-x86_64 busybox apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || fail "$tool is missing (tools/bootstrap installs it)"
done
file -L "$(command -v busybox)" 2>/dev/null | grep -q "statically linked" \
  || ldd "$(command -v busybox)" 2>&1 | grep -q "not a dynamic executable" \
  || fail "busybox is not static (tools/bootstrap installs busybox-static)"

# Debian's kernel, as linux-image-amd64 names it today.
KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[[ -n "$KPKG" ]] || fail "apt-cache names no kernel for linux-image-amd64"
mkdir -p "$T/deb"
(cd "$T/deb" && apt-get -qq -o APT::Sandbox::User=root download "$KPKG") >"$T/apt.log" 2>&1 \
  || { cat "$T/apt.log"; fail "apt-get download $KPKG"; }
dpkg-deb -x "$T"/deb/"$KPKG"_*.deb "$T/kernel"
KVER=${KPKG#linux-image-}
VMLINUZ="$T/kernel/boot/vmlinuz-$KVER"
[[ -f "$VMLINUZ" ]] || fail "no $VMLINUZ in $KPKG"

# The initramfs: static busybox, the modules for virtio, its network card
# and 9p (Debian builds them as modules), and an init that mounts this
# host's root and hands over to the script named by pbrx_script=.
IR="$T/initramfs"
mkdir -p "$IR/bin" "$IR/mod" "$IR/proc" "$IR/sys" "$IR/dev" "$IR/newroot"
cp "$(command -v busybox)" "$IR/bin/busybox"
for m in virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev \
         failover net_failover virtio_net netfs fscache 9pnet 9pnet_virtio 9p; do
  ko=$(find "$T/kernel/lib/modules/$KVER" -name "$m.ko" | head -n1)
  [[ -n "$ko" ]] || fail "module $m.ko is not in $KPKG"
  cp "$ko" "$IR/mod/"
done
cat >"$IR/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Modules in dependency order without depmod: load what loads until all do.
left=$(ls /mod)
for round in 1 2 3 4 5 6 7 8; do
  next=""
  for m in $left; do insmod "/mod/$m" 2>/dev/null || next="$next $m"; done
  left=$next
  [ -z "$left" ] && break
done
[ -z "$left" ] || echo "pbrx-vm: modules not loaded:$left"
script=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in pbrx_script=*) script=${arg#pbrx_script=} ;; esac
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /newroot \
  || { echo "pbrx-vm: cannot mount the host's root"; echo o >/proc/sysrq-trigger; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "$script"
INIT
chmod 755 "$IR/init"
(cd "$IR" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$T/initrd.gz"

start_cache "$T/data"
start_coordinator "$CACHE_ADDR" --metrics-listen=127.0.0.1:0
COORD_PORT=${COORD_ADDR##*:}
CACHE_PORT=${CACHE_ADDR##*:}
# A free port of this host for the guest's metrics (qemu forwards it).
HOST_METRICS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# Runs as the guest's init on this host's (read-only) root: writable
# places are the guest's tmpfs, cgroup2 is the only cgroup hierarchy.
cat >"$T/guest.sh" <<GUEST
#!/bin/bash
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
for d in /tmp /run; do mount -t tmpfs -o mode=1777 tmpfs "\$d"; done
# The work dir: the executor wants 1 GiB free (tmpfs pages are only used
# when written).
mount -t tmpfs -o mode=1777,size=4g tmpfs /var/tmp
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo "pbrx-vm: /sys/fs/cgroup is \$(stat -f -c %T /sys/fs/cgroup), controllers: \$(cat /sys/fs/cgroup/cgroup.controllers)"
echo "pbrx-vm: v1 hierarchies: \$(grep -c ' - cgroup ' /proc/self/mountinfo)"
"$EXEC_BIN" --name=vm --coordinator=grpc://10.0.2.2:$COORD_PORT --cache=grpc://10.0.2.2:$CACHE_PORT \
  --work-dir=/var/tmp/pbrx-work --slots=2 --action-memory=64M --action-pids=32 \
  --metrics-listen=0.0.0.0:9100 2>&1
echo "pbrx-vm: pbrx-executor exited \$?"
echo o >/proc/sysrq-trigger
GUEST
chmod 755 "$T/guest.sh"

qemu-system-x86_64 -accel tcg -m 2048 -smp 2 -display none -monitor none \
  -serial "file:$T/vm.log" -no-reboot \
  -kernel "$VMLINUZ" -initrd "$T/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet pbrx_script=$T/guest.sh" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$HOST_METRICS_PORT-10.0.2.15:9100" \
  -device virtio-net-pci,netdev=n0 >"$T/qemu.out" 2>&1 &
QEMU_PID=$!

# Booting and starting the executor under emulation: bounded at 5 min.
for _ in $(seq 1 600); do
  [[ "$(metric pbrx_coordinator_executors_connected)" == 1 ]] && break
  kill -0 "$QEMU_PID" 2>/dev/null || { cat "$T/qemu.out" "$T/vm.log"; fail "qemu exited before the executor registered"; }
  sleep 0.5
done
[[ "$(metric pbrx_coordinator_executors_connected)" == 1 ]] \
  || { cat "$T/vm.log"; fail "the guest's executor did not register within 5 min"; }
cat "$T/vm.log"
grep -q "^pbrx-vm: /sys/fs/cgroup is cgroup2fs, controllers: .*memory.*pids" "$T/vm.log" \
  || grep -q "^pbrx-vm: /sys/fs/cgroup is cgroup2fs, controllers: .*pids.*memory" "$T/vm.log" \
  || fail "the guest has no cgroup2 with memory and pids at /sys/fs/cgroup"
grep -q "^pbrx-vm: v1 hierarchies: 0" "$T/vm.log" || fail "the guest mounts cgroup v1 hierarchies"
grep -q "limits per action (cgroup_v2): memory 67108864 bytes, 32 pids" "$T/vm.log" \
  || fail "the guest's executor does not use cgroup v2 for its limits"
m=$(curl -sf --noproxy '*' "http://127.0.0.1:$HOST_METRICS_PORT/metrics" \
  | awk '$1 == "pbrx_executor_sandbox_limits{mechanism=\"cgroup_v2\"}" {print $2}')
[[ "$m" == 1 ]] || fail "pbrx_executor_sandbox_limits{mechanism=\"cgroup_v2\"} is '$m', want 1"

WS="$T/ws"
write_base_workspace "$WS"
cat >"$WS/BUILD" <<'B'
genrule(
    name = "fits",
    outs = ["fits.txt"],
    cmd = "python3 -c \"x = bytearray(16 << 20); print('allocated', len(x) >> 20)\" > $@; cat /proc/self/cgroup >> $@",
)
genrule(
    name = "hog",
    outs = ["hog.txt"],
    cmd = "python3 -c \"x = bytearray(512 << 20); print('allocated')\" > $@",
)
genrule(
    name = "forks",
    outs = ["forks.txt"],
    cmd = "\n".join([
        "python3 -c '",
        "import os, sys",
        "while True:",
        "    try:",
        "        if os.fork() == 0:",
        "            os.dup2(os.open(\"/dev/null\", os.O_RDWR), 1)",
        "            os.execvp(\"sleep\", [\"sleep\", \"60\"])",
        "    except OSError as e:",
        "        print(\"refused:\", e.strerror, file=sys.stderr)",
        "        sys.exit(5)",
        "' > $@",
    ]),
)
B
REMOTE=(--remote_executor="grpc://$COORD_ADDR" --remote_timeout=600 --spawn_strategy=remote
        --remote_retries=0 --noremote_accept_cached)

run_bazel "$T/fits.log" build "${REMOTE[@]}" //:fits || { cat "$T/fits.log" "$T/vm.log"; fail "an action within the limits failed"; }
got=$(cat "$WS/bazel-bin/fits.txt")
echo "within the limits: $got"
[[ "$(head -n1 <<<"$got")" == "allocated 16" ]] || fail "the action within the limits printed '$got'"
# /proc/self/cgroup in a v2-only kernel: the one "0::" line, nothing of v1.
[[ "$(tail -n +2 <<<"$got")" == "0::/"* ]] || fail "the action's /proc/self/cgroup is not a cgroup v2 line: '$got'"

# expect_killed TARGET MESSAGE WHAT: the build of TARGET fails, and its log
# shows the executor's MESSAGE (WHAT names the action in a failure).
expect_killed() {
  local target="$1" message="$2" what="$3" rc
  set +e
  run_bazel "$T/$target.log" build "${REMOTE[@]}" "//:$target"
  rc=$?
  set -e
  [[ $rc != 0 ]] || fail "$what succeeded"
  grep -qF "$message" "$T/$target.log" \
    || { cat "$T/$target.log" "$T/vm.log"; fail "$what did not end with '$message'"; }
  grep -F "$message" "$T/$target.log"
}
expect_killed hog "killed: memory limit (64 MiB) exceeded" \
  "an action touching 512 MiB under --action-memory=64M"
expect_killed forks "exit 5 (process limit 32 reached)" \
  "an action forking without end under --action-pids=32"
grep -q "refused: Resource temporarily unavailable" "$T/forks.log" \
  || { cat "$T/forks.log"; fail "the refused fork's error is not in the action's output"; }

# The executor counts both as limits exceeded.
metrics=$(curl -sf --noproxy '*' "http://127.0.0.1:$HOST_METRICS_PORT/metrics")
grep -E '^pbrx_executor_limit_kills_total\{limit="memory"\} 1$' <<<"$metrics" >/dev/null \
  || { grep limit_exceeded <<<"$metrics"; fail "no memory limit counted"; }
grep -E '^pbrx_executor_limit_kills_total\{limit="pids"\} 1$' <<<"$metrics" >/dev/null \
  || { grep limit_exceeded <<<"$metrics"; fail "no pids limit counted"; }
echo PASS
