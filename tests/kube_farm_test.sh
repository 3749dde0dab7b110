#!/usr/bin/env bash
# The farm as deploy/kubernetes describes it, run by `podman kube play`:
# tools/build-daemon-images builds the three daemon images (twice: the same
# digests), deploy/kubernetes/make-tokens makes the token Secret's files,
# the manifests pass tests/kube_manifests.py's checks and are played with
# podman (pod templates unchanged; StatefulSet, Services and the Secret
# stood in for as kube_manifests.py says), and both examples build through
# that farm with the CI token into images that run. Without a token the
# farm refuses the build.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
source "$REPO/tests/podman_lib.sh"
KDIR="$REPO/deploy/kubernetes"
played=""
cleanup() {
  if [[ -n "$played" ]]; then
    for c in $(podman_ ps -a --format '{{.Names}}' 2>/dev/null); do
      podman_ logs "$c" >"$T/$c.log" 2>&1 || true
    done
    podman_ kube down "$T/play/workloads.yaml" >/dev/null 2>&1 || true
  fi
  podman_ pod rm -af >/dev/null 2>&1 || true
  podman_cleanup
}
trap cleanup EXIT

require_mirror >/dev/null

# The daemons' images, from the binaries under test; twice, the same bytes.
mkdir -p "$T/bin"
for d in cache/pbrx-cache coordinator/pbrx-coordinator executor/pbrx-executor; do
  ln -s "$REPO/$d" "$T/bin/$(basename "$d")"
done
build_images() {
  python3 "$REPO/tools/build-daemon-images" --bin-dir "$T/bin" --output "$1" --epoch 1700000000 \
    --revision test >"$1.refs" 2>"$1.err" || { cat "$1.err"; fail "build-daemon-images $1"; }
}
build_images "$T/images"
build_images "$T/images2"
cat "$T/images.refs"
[[ $(wc -l <"$T/images.refs") == 3 ]] || fail "want three images: $(cat "$T/images.refs")"
diff "$T/images.refs" "$T/images2.refs" || fail "the daemon images are not reproducible"
python3 - "$T/images" <<'PY' || fail "daemon image contents"
import json, sys
root = sys.argv[1]
blob = lambda d: json.load(open(f"{root}/blobs/sha256/{d[7:]}"))
index = json.load(open(f"{root}/index.json"))
images = {m["annotations"]["org.opencontainers.image.ref.name"]: blob(m["digest"]) for m in index["manifests"]}
assert sorted(images) == ["pbrx-cache:latest", "pbrx-coordinator:latest", "pbrx-executor:latest"], images
configs = {n: blob(m["config"]["digest"]) for n, m in images.items()}
for name, c in configs.items():
    assert c["config"]["Entrypoint"] == ["/usr/bin/" + name.split(":")[0]], c
    assert c["os"] == "linux" and c["architecture"] == "amd64", c
    assert c["created"] == "2023-11-14T22:13:20Z", c
# The cache and the coordinator share their first layer and run as nobody's
# kind of user; the executor runs as root (its sandbox needs it).
cache, coord, ex = (images[f"pbrx-{n}:latest"] for n in ("cache", "coordinator", "executor"))
assert cache["layers"][0] == coord["layers"][0] != ex["layers"][0]
assert configs["pbrx-cache:latest"]["config"]["User"] == "65532:65532"
assert configs["pbrx-coordinator:latest"]["config"]["User"] == "65532:65532"
assert "User" not in configs["pbrx-executor:latest"]["config"]
PY
# What the executor's sandbox needs is in its image, and not in the others.
rm -rf "$T/unpacked" && umoci unpack --image "$T/images:pbrx-executor:latest" "$T/unpacked" >/dev/null
for tool in bwrap slirp4netns mmdebstrap ip nsenter; do
  [[ -x "$T/unpacked/rootfs/usr/bin/$tool" || -x "$T/unpacked/rootfs/usr/sbin/$tool" || -x "$T/unpacked/rootfs/bin/$tool" ]] \
    || fail "the executor image has no $tool"
done
rm -rf "$T/unpacked" && umoci unpack --image "$T/images:pbrx-coordinator:latest" "$T/unpacked" >/dev/null
[[ ! -e "$T/unpacked/rootfs/usr/bin/bwrap" && ! -e "$T/unpacked/rootfs/usr/bin/mmdebstrap" ]] \
  || fail "the coordinator image carries the executor's tools"
rm -rf "$T/unpacked"

# The manifests hold together; then their podman form.
python3 "$REPO/tests/kube_manifests.py" check "$KDIR" || fail "deploy/kubernetes does not hold together"
"$KDIR/make-tokens" "$T/tokens" >/dev/null
if "$KDIR/make-tokens" "$T/tokens" 2>/dev/null; then fail "make-tokens overwrote tokens"; fi
# What Kubernetes does with the Secret volume (defaultMode 0440, fsGroup
# 65532 on the cache's and coordinator's pods): files readable by that group.
chgrp -R 65532 "$T/tokens" && chmod 0750 "$T/tokens" && chmod 0440 "$T/tokens"/*
mkdir -p "$T/play"
skipped=$(python3 "$REPO/tests/kube_manifests.py" podman "$KDIR" "$T/tokens" "$T/play")
[[ "$skipped" == "Service/pbrx-cache Service/pbrx-coordinator HorizontalPodAutoscaler/pbrx-executor" ]] \
  || fail "kube_manifests.py left out: $skipped"

# Into podman's storage under the names the manifests use (podman's own
# "pull oci:DIR" would name them after the directory).
for name in pbrx-cache pbrx-coordinator pbrx-executor; do
  skopeo copy -q "oci:$T/images:$name:latest" \
    "containers-storage:[vfs@$PODMAN_RUN/root+$PODMAN_RUN/run]localhost/$name:latest" \
    || fail "skopeo copy $name into podman's storage"
done
# The cache's volume first, filled with the test seed (the Debian base and
# apt layers) when there is one (else the executor's container builds the
# base with mmdebstrap), owned by the cache's user as fsGroup would make it.
podman_ kube play "$T/play/claims.yaml" >/dev/null
volume=$(podman_ volume inspect data-pbrx-cache-0 --format '{{.Mountpoint}}')
seeded_cache "$T/seed"
if [[ -d "$T/seed/db" ]]; then
  cp -a "$T/seed/db/." "$volume/"
else
  echo "no test seed yet: the executor's container builds the Debian base"
fi
chown -R 65532:65532 "$volume"
played=1
podman_ kube play "$T/play/workloads.yaml" >"$T/play.out" 2>&1 || { cat "$T/play.out"; fail "podman kube play"; }

# The coordinator answers and both its executors registered (by pod name).
CI_TOKEN=$(cat "$T/tokens/ci-token")
FARM=grpc://127.0.0.1:8981
up=""
for _ in $(seq 1 120); do
  if out=$(PBRX_TOKEN="$CI_TOKEN" "$PBRX" farm status --farm "$FARM" --json 2>/dev/null) \
     && python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if len(s["executors"]) == 1 else 1)' "$out"; then
    up=1; break
  fi
  sleep 1
done
if [[ -z "$up" ]]; then
  podman_ ps -a --format '{{.Names}} {{.Status}}' >&2
  for c in $(podman_ ps -a --format '{{.Names}}'); do echo "== $c" >&2; podman_ logs "$c" 2>&1 | tail -5 >&2; done
  fail "the played farm never showed its executor"
fi
python3 - "$out" <<'PY' || fail "farm status: $out"
import json, sys
s = json.loads(sys.argv[1])
[e] = s["executors"]
assert e["name"].startswith("pbrx-executor-pod"), e
PY
metrics=$(curl -sf http://127.0.0.1:9182/metrics) || fail "the executor serves no metrics"
grep -q '^pbrx_executor_sandbox_limits{mechanism="cgroup_v1"} 1' <<<"$metrics" \
  || fail "the executor in its container does not limit steps with cgroups: $(grep sandbox_limits <<<"$metrics")"

cp -rL "$REPO/examples/pbr-service" "$T/svc"
cp -rL "$REPO/examples/pep621-hello" "$T/hello"
stage_dists "$T/links"
# Without the token: refused, nothing built.
rc=0
"$PBRX" build-images --farm "$FARM" --output "oci:$T/denied" --find-links "$T/links" "$T/hello" \
  >/dev/null 2>"$T/denied.err" || rc=$?
[[ $rc == 3 ]] || { cat "$T/denied.err"; fail "a build without a token: want exit 3, got $rc"; }
grep -q 'no credentials (send "authorization: Bearer TOKEN"' "$T/denied.err" \
  || fail "the refusal does not say why: $(cat "$T/denied.err")"
[[ ! -e "$T/denied/index.json" ]] || fail "a refused build wrote an image"

printf %s "$CI_TOKEN" >"$T/ci-token"
"$PBRX" build-images --farm "$FARM" --token-file "$T/ci-token" --output "oci:$T/farm" \
  --find-links "$T/links" --json "$T/svc" "$T/hello" >"$T/farm.json" 2>"$T/farm.err" \
  || { cat "$T/farm.err"; fail "farm build through the played manifests"; }
python3 - "$T/farm.json" <<'PY' || fail "farm build report"
import json, sys
r = json.load(open(sys.argv[1]))
refs = sorted(i["ref"] for p in r["projects"] for i in p["images"])
assert refs == ["hello-pbrx-base:latest", "hello-pbrx-info:latest", "hello-pbrx:latest",
                "pbrx-service-api:latest", "pbrx-service-base:latest",
                "pbrx-service-manage:latest"], refs
ran = [s for p in r["projects"] for s in p["steps"] if not s["cached"] and s["kind"] == "wheel-build"]
assert ran, "no wheel was built on the played executor"
PY
out=$(run_image farm pbrx-service-api:latest)
[[ "$out" == "[api ready, abs(-42) via libffi = 42]" ]] || fail "api image from the played farm: $out"
executed=$(curl -sf http://127.0.0.1:9182/metrics | awk '$1 == "pbrx_executor_actions_total{outcome=\"succeeded\"}" {print $2}')
[[ -n "$executed" && "${executed%.*}" -gt 0 ]] || fail "the executor container ran no action: '$executed'"
echo "kube farm: images built, executor ran $executed actions"
# The farm down (the cache closes its database): its bases and apt layers
# seed the next tests when there was no seed.
podman_ kube down "$T/play/workloads.yaml" >/dev/null
played=""
if [[ ! -d "$T/seed/db" ]]; then
  mkdir -p "$T/saved" && ln -s "$volume" "$T/saved/db"
  save_seed "$T/saved"
fi
