#!/usr/bin/env bash
# End to end on example (a), examples/pbr-service: a pbr project with a C
# extension dependency (ffibridge, linking libffi) built from an sdist, a
# base extra and a script extra, all served from a --find-links directory.
# Checks the images with skopeo, umoci and bwrap: the C extension runs
# against libffi8; no compiler or -dev package reaches the images; the
# script extra is only in its script's image; a rebuild executes nothing;
# a new version of the script extra's dependency rebuilds only that
# script's layer and image.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
CACHE="$T/cache"
seeded_cache "$CACHE"

cp -rL "$REPO/examples/pbr-service" "$T/src"
stage_dists "$T/links"

build() {  # build NAME [FLAGS]: builds into oci:$T/NAME, output in $T/NAME.out/.err
  local name="$1"; shift
  "$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/$name" --find-links "$T/links" "$@" \
    "$T/src" >"$T/$name.out" 2>"$T/$name.err" || { cat "$T/$name.err"; fail "build $name"; }
  cat "$T/$name.out" "$T/$name.err"
}
run_cmd() { run_image "$@"; }
digest_of() { grep "^$2 " "$T/$1.out" | cut -d' ' -f2; }

build one
save_seed "$CACHE"
[[ "$(run_cmd one pbrx-service-api:latest)" == "[api ready, abs(-42) via libffi = 42]" ]] || fail "api"
[[ "$(run_cmd one pbrx-service-api:latest --help)" == "usage: pbrx-service-api [--help]" ]] || fail "api --help"
root="$T/bundle/rootfs"
[[ -e "$root/usr/lib/x86_64-linux-gnu/libffi.so.8" ]] || fail "libffi8 missing at runtime"
[[ ! -e "$root/usr/bin/gcc" && ! -e "$root/usr/bin/x86_64-linux-gnu-gcc-12" ]] || fail "compiler in the image"
[[ ! -e "$root/usr/include/x86_64-linux-gnu/ffi.h" && ! -e "$root/usr/include/zlib.h" ]] || fail "-dev headers in the image"
if ls "$root/var/lib/dpkg/info/" | grep -q -- '-dev\.list$'; then fail "a -dev package is installed in the image"; fi
[[ ! -e "$root/usr/local/lib/python3.11/dist-packages/pbrxdemo_table" ]] || fail "script extra leaked into the api image"
[[ -e "$root/usr/local/lib/python3.11/dist-packages/pbrxdemo_colors" ]] || fail "base extra missing"
[[ "$(run_cmd one pbrx-service-manage:latest)" == "manage | 7" ]] || fail "manage"
[[ -e "$T/bundle/rootfs/usr/local/lib/python3.11/dist-packages/pbrxdemo_table" ]] || fail "script extra missing from its image"
skopeo inspect --config "oci:$T/one:pbrx-service-base:latest" | grep -q '"org.opencontainers.image.version": "1.2.0"' || fail "version label"

# A real container runtime: podman with runc (crun does not work here), its
# own storage under the test's temp dir, no network.
cat >"$T/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
# (podman wants a runroot path shorter than 50 characters.)
# podman also derives an image name from the layout path, which must then be
# a valid reference: copy the layout to a short, plain path.
PODMAN_RUN="/tmp/pbrx-podman-$$-$RANDOM"  # lower case: it becomes an image name
mkdir "$PODMAN_RUN"
# vfs storage: podman's overlay driver leaves a mount behind in its root.
trap 'umount -R "$PODMAN_RUN/root" 2>/dev/null || true; rm -rf "$PODMAN_RUN" || true' EXIT
mkdir "$PODMAN_RUN/run" && cp -r "$T/one" "$PODMAN_RUN/layout"
out=$(CONTAINERS_CONF="$T/containers.conf" podman --root "$PODMAN_RUN/root" --runroot "$PODMAN_RUN/run" --storage-driver vfs \
  run --rm --network none "oci:$PODMAN_RUN/layout:pbrx-service-api:latest" 2>"$T/podman.err") \
  || { cat "$T/podman.err"; fail "podman run"; }
[[ "$out" == "[api ready, abs(-42) via libffi = 42]" ]] || fail "podman output: $out"

build two
grep -q "steps: [0-9]* cached, 0 run" "$T/two.err" || fail "rebuild ran steps"
diff "$T/one.out" "$T/two.out" || fail "rebuild changed digests"

# pbrxdemo_table 0.5 appears: only the manage image changes.
sed 's/0\.4/0.5/' -i "$T/tests/fixtures/dists/pbrxdemo_table-0.4/setup.py" "$T/tests/fixtures/dists/pbrxdemo_table-0.4/PKG-INFO"
mv "$T/tests/fixtures/dists/pbrxdemo_table-0.4" "$T/tests/fixtures/dists/pbrxdemo_table-0.5"
"$T/tools/make-fixture-dists" "$T/links"
build three --json
python3 - "$T/three.out" "$T/one.out" <<'PY' || fail "script-extra-only rebuild"
import json, sys
r = json.load(open(sys.argv[1]))
one = dict(l.split() for l in open(sys.argv[2]))
p = r["projects"][0]
now = {i["ref"]: i["digest"] for i in p["images"]}
for img in ("pbrx-service-base:latest", "pbrx-service-api:latest"):
    assert now[img] == one[img], (img, "changed")
assert now["pbrx-service-manage:latest"] != one["pbrx-service-manage:latest"], "manage did not change"
# Exactly the manage script's steps ran, plus the base resolution, whose
# input (the --find-links listing) changed but whose result did not.
ran = sorted((s["kind"], s["name"]) for s in p["steps"]
             if not s["cached"] and s["kind"] != "image-assembly")
want = [("bytecode", "pbrx-service-manage"), ("python-layer", "pbrx-service-manage"),
        ("resolve", "base"), ("resolve", "pbrx-service-manage"),
        ("wheel-build", "pbrxdemo_table-0.5.tar.gz")]
assert ran == want, ran
PY
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/four" --find-links "$T/links" --json "$T/src" >"$T/four.json"
python3 - "$T/four.json" <<'PY' || fail "step accounting"
import json, sys
steps = json.load(open(sys.argv[1]))["projects"][0]["steps"]
assert all(s["cached"] for s in steps if s["kind"] != "image-assembly"), steps
PY
echo PASS
