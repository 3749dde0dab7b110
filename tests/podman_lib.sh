# podman as a test's image consumer (sourced after e2e_lib.sh; expects T):
# its own root under /tmp (overlay-free vfs storage, runc, cgroupfs), so
# nothing of the machine's podman is touched. Call podman_cleanup from the
# caller's EXIT trap.
PODMAN_RUN="/tmp/pbrx-podman-$$-$RANDOM"
mkdir -p "$PODMAN_RUN/run"
cat >"$T/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF

podman_() {
  CONTAINERS_CONF="$T/containers.conf" podman --root "$PODMAN_RUN/root" --runroot "$PODMAN_RUN/run" --storage-driver vfs "$@"
}

podman_cleanup() {
  umount -R "$PODMAN_RUN/root" 2>/dev/null || true
  rm -rf "$PODMAN_RUN" || true
}
