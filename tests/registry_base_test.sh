#!/usr/bin/env bash
# Bases from registries: pbrx build-images --base docker://REF against
# Debian's docker-registry on loopback, counted by tests/registry_proxy.py:
#   - a base by tag: the images hold the base's layers first, record
#     "NAME:TAG@sha256:D" and D in their base labels and manifest
#     annotations, and run with what the base installed;
#   - the same base pinned by digest, its layout cached: not one request to
#     the registry; a tag again: its manifest only, no blob bytes; a byte
#     flipped in the cached layout: a warning naming the blob, pulled again;
#   - a multi-platform index: linux/amd64 is picked, the other platform's
#     blobs are never fetched; the base's Env (PATH merged), User,
#     WorkingDir and Labels are inherited;
#   - a tag or digest the registry does not have, and a malformed
#     reference: a clear error naming --base, exit 1 or 2, no layout;
#   - on a farm (pbrx-cache, pbrx-coordinator, pbrx-executor on loopback):
#     the same image digests as embedded mode; a farm --push sends them from
#     the farm's cache to the registry: the cache serves no blob the
#     registry already has (its read bytes counted by its own metrics, the
#     registry's received bytes by the proxy), a second push sends and reads
#     no blob, no local layout is written, skopeo sees the digests;
#     --output with --farm --push is a usage error.
set -euo pipefail
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
PBRX="$REPO/client/pbrx"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
source "$REPO/tests/registry_lib.sh"
source "$REPO/tests/farm_lib.sh"
PIDS=()
CACHE_PID=""
cleanup() {
  stop_farm
  [[ -n "$CACHE_PID" ]] && kill "$CACHE_PID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

RUN="$(date +%s%N)-$$"
for name in regbase onbase; do
  write_pyproject "$T/$name" "$name"
  mkdir -p "$T/$name/$name"
  printf 'def main():\n    print("%s says hello %s")\n' "$name" "$RUN" >"$T/$name/$name/__init__.py"
done
start_registry plain
PLAIN="127.0.0.1:$REG_PORT"
start_proxy "$REG_PORT"
P="127.0.0.1:$PROXY_PORT/team"
seeded_cache "$T/cache"

# --- a base in the registry: a pbrx image, pushed ------------------------
"$PBRX" build-images --cache-dir "$T/cache" --output "oci:$T/first" --prefix "$P" --tag v1 --push \
  "$T/regbase" >"$T/first.out" 2>"$T/first.err" || { cat "$T/first.err"; fail "building the base"; }
save_seed "$T/cache"
D=$(skopeo inspect --tls-verify=false "docker://$PLAIN/team/regbase-base:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
[[ "$D" == sha256:* ]] || fail "no base in the registry: $D"

# build NAME BASE [FLAGS...]: onbase on BASE into oci:$T/NAME; rc, $T/NAME.{out,err}
build() {
  rc=0
  "$PBRX" build-images --cache-dir "$T/cache" --output "oci:$T/$1" --prefix "$P" --tag v1 \
    --base "$2" "${@:3}" "$T/onbase" >"$T/$1.out" 2>"$T/$1.err" || rc=$?
}
# image LAYOUT REF: "LAYER,LAYER,... BASE_NAME BASE_DIGEST" of an image.
image() {
  python3 - "$T/$1" "$2" <<'PY'
import json, sys
d, ref = sys.argv[1], sys.argv[2]
blob = lambda dg: json.load(open(f"{d}/blobs/sha256/{dg.split(':')[1]}"))
idx = json.load(open(f"{d}/index.json"))
m = [m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref][0]
man = blob(m["digest"])
labels = blob(man["config"]["digest"])["config"]["Labels"]
for k in ("org.opencontainers.image.base.name", "org.opencontainers.image.base.digest"):
    assert man["annotations"][k] == labels[k], (k, man.get("annotations"))
print(",".join(l["digest"] for l in man["layers"]),
      labels["org.opencontainers.image.base.name"], labels["org.opencontainers.image.base.digest"])
PY
}
requests() { proxy_stat requests; }

# --- by tag ---------------------------------------------------------------
build bytag "docker://$P/regbase-base:v1"
[[ $rc == 0 ]] || { cat "$T/bytag.err"; fail "build on docker://$P/regbase-base:v1: exit $rc"; }
read -r base_layers _ _ <<<"$(image first "$P/regbase-base:v1")"
read -r layers name digest <<<"$(image bytag "$P/onbase-base:v1")"
[[ "$layers" == "$base_layers",* ]] || fail "onbase-base does not start with the base's layers: $layers vs $base_layers"
[[ "$name" == "$P/regbase-base:v1@$D" && "$digest" == "$D" ]] || fail "base labels: $name $digest (want $P/regbase-base:v1@$D)"
# The --json report names the resolved base (all hits: the same build).
build bytagjson "docker://$P/regbase-base:v1" --json
[[ $rc == 0 ]] || { cat "$T/bytagjson.err"; fail "--json build on docker://$P/regbase-base:v1: exit $rc"; }
python3 -c 'import json,sys; b = json.load(open(sys.argv[1]))["projects"][0]["base"]; assert b == {"name": sys.argv[2], "digest": sys.argv[3]}, b' \
  "$T/bytagjson.out" "$P/regbase-base:v1@$D" "$D" || fail "the --json report's base"
rm -rf "$T/bundle"
umoci unpack --image "$T/bytag:$P/onbase:v1" "$T/bundle" >/dev/null
out=$(bwrap --ro-bind "$T/bundle/rootfs" / --proc /proc --dev /dev --unshare-all --cap-drop ALL --clearenv \
  --setenv PATH /usr/local/bin:/usr/bin:/bin -- sh -c 'onbase && python3 -c "import regbase; regbase.main()"')
[[ "$out" == "onbase says hello $RUN"$'\n'"regbase says hello $RUN" ]] || fail "the image on the pulled base printed: $out"
echo "by tag: $D, runs with the base's regbase"

# --- pinned and cached: no request; a tag again: its manifest only --------
before=$(requests)
build pinned "docker://$P/regbase-base@$D"
[[ $rc == 0 ]] || { cat "$T/pinned.err"; fail "build on the pinned base: exit $rc"; }
[[ "$(requests)" == "$before" ]] || fail "a pinned, cached base made $(( $(requests) - before )) requests: $(proxy stats)"
read -r layers2 name2 _ <<<"$(image pinned "$P/onbase-base:v1")"
[[ "$layers2" == "$layers" && "$name2" == "$P/regbase-base@$D" ]] || fail "pinned: $layers2 $name2"
before=$(requests) served=$(proxy_stat blob_bytes_served)
build again "docker://$P/regbase-base:v1"
[[ $rc == 0 ]] || { cat "$T/again.err"; fail "second build by tag: exit $rc"; }
[[ "$(proxy_stat blob_bytes_served)" == "$served" ]] || fail "the cached base was fetched again"
proxy stats | python3 -c '
import json, sys
log = json.load(sys.stdin)["log"][int(sys.argv[1]):]
assert [l for l in log if "/manifests/" in l] == ["GET /v2/team/regbase-base/manifests/v1"], log
assert not [l for l in log if "/blobs/" in l], log
' "$before" || fail "a tag resolved twice or blobs fetched"
cmp "$T/again/index.json" "$T/bytag/index.json" || fail "the same base by tag built different images"
echo "pinned: 0 requests; tag again: one manifest request"

# --- a damaged cached base: verified, removed, pulled again ----------------
# One byte of the base's largest layer flipped in CACHE/bases/: the next
# build warns naming the blob, pulls the base again, builds the same images.
victim=$(find "$T/cache/bases" -path '*/blobs/sha256/*' -type f -printf '%s %p\n' | sort -n | tail -n1 | cut -d' ' -f2)
[[ -n "$victim" ]] || fail "no cached base layout"
python3 - "$victim" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(1000); b = f.read(1); f.seek(1000); f.write(bytes([b[0] ^ 0xff]))
PY
served=$(proxy_stat blob_bytes_served)
build repaired "docker://$P/regbase-base@$D"
[[ $rc == 0 ]] || { cat "$T/repaired.err"; fail "build on a damaged cached base: exit $rc"; }
grep -q "^pbrx build-images: warning: the cached base layout .* was damaged (.*sha256:$(basename "$victim").*); pulling it again" "$T/repaired.err" \
  || fail "no warning naming the damaged blob: $(cat "$T/repaired.err")"
(( $(proxy_stat blob_bytes_served) > served )) || fail "the damaged base was not pulled again"
cmp "$T/repaired/index.json" "$T/pinned/index.json" || fail "the repaired base built different images"
build repaired2 "docker://$P/regbase-base@$D"
! grep -q "warning" "$T/repaired2.err" || fail "the repaired base is still damaged: $(cat "$T/repaired2.err")"
echo "a damaged cached base: warned, pulled again, same images"

# --- a multi-platform index: linux/amd64 is picked ------------------------
skopeo copy -q --src-tls-verify=false "docker://$PLAIN/team/regbase-base:v1" "oci:$T/multi:amd" >/dev/null
python3 - "$T/multi" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
d = sys.argv[1]
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(f"{d}/blobs/sha256/{h}", "wb").write(data)
    return {"digest": "sha256:" + h, "size": len(data)}
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    info = tarfile.TarInfo("mips64le-only"); data = b"not for amd64\n"; info.size = len(data)
    t.addfile(info, io.BytesIO(data))
layer = put(gzip.compress(raw.getvalue(), mtime=0))
open(f"{d}/mips-layer", "w").write(layer["digest"])
cfg = put(json.dumps({"architecture": "mips64le", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()]}}).encode())
arm = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
    "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]}).encode())
idx = json.load(open(f"{d}/index.json"))
# The platform team's config, which images inherit.
blob = lambda dg: json.load(open(f"{d}/blobs/sha256/{dg.split(':')[1]}"))
man = blob(idx["manifests"][0]["digest"])
config = blob(man["config"]["digest"])
config["config"]["Env"] = ["PATH=/opt/tools/bin:/usr/bin:/bin", "TZ=Europe/Berlin"]
config["config"].update({"User": "nobody", "WorkingDir": "/srv", "Labels": {"team": "platform"}})
man["config"] = dict(man["config"], **put(json.dumps(config).encode()))
amd = put(json.dumps(man).encode())
open(f"{d}/amd64-manifest", "w").write(amd["digest"])
entry = lambda m, arch: {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m["digest"],
                         "size": m["size"], "platform": {"architecture": arch, "os": "linux"}}
nested = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [entry(arm, "mips64le"), entry(amd, "amd64")]}).encode())
idx["manifests"] = [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": nested["digest"],
    "size": nested["size"], "annotations": {"org.opencontainers.image.ref.name": "v1"}}]
json.dump(idx, open(f"{d}/index.json", "w"))
PY
skopeo copy -q --all --dest-tls-verify=false "oci:$T/multi:v1" "docker://$PLAIN/team/multi:v1" >/dev/null
INDEX=$(skopeo inspect --raw --tls-verify=false "docker://$PLAIN/team/multi:v1" | sha256sum | cut -d' ' -f1)
before=$(requests)
build multi "docker://$P/multi:v1"
[[ $rc == 0 ]] || { cat "$T/multi.err"; fail "build on a multi-platform base: exit $rc"; }
read -r layers3 name3 digest3 <<<"$(image multi "$P/onbase-base:v1")"
[[ "$name3" == "$P/multi:v1@sha256:$INDEX" && "$digest3" == "$(cat "$T/multi/amd64-manifest")" ]] \
  || fail "multi-platform base labels: $name3 $digest3"
[[ "$layers3" == "$layers" ]] || fail "the amd64 image of the index has other layers: $layers3"
skopeo inspect --config "oci:$T/multi:$P/onbase:v1" | python3 -c '
import json, sys
c = json.load(sys.stdin)["config"]
assert c["Env"] == ["PATH=/opt/tools/bin:/usr/bin:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin",
                    "TZ=Europe/Berlin", "LANG=C.UTF-8"], c["Env"]
assert (c["User"], c["WorkingDir"], c["Labels"]["team"]) == ("nobody", "/srv", "platform"), c
assert c["Labels"]["org.opencontainers.image.title"] == "onbase", c
' || fail "the base config was not inherited"
arm_layer=$(cat "$T/multi/mips-layer")
proxy stats | python3 -c '
import json, sys
log = json.load(sys.stdin)["log"][int(sys.argv[1]):]
assert not [l for l in log if sys.argv[2] in l], log
' "$before" "$arm_layer" || fail "the mips64le layer was fetched"
echo "multi-platform index sha256:$INDEX: amd64 picked, mips64le untouched"
# --platform linux/mips64le picks the other image; its steps ask for
# executors that run it (platform=linux/mips64le), which this one is not
# (no host offers it by itself, whatever binfmt_misc holds: arm64 runs here
# where qemu-user is registered, see farm_foreign_platform_test): refused,
# naming the property, after only the mips64le blobs were fetched.
before=$(requests)
build arm "docker://$P/multi:v1" --platform linux/mips64le
[[ $rc == 1 ]] && grep -q "unsupported platform property platform=linux/mips64le" "$T/arm.err" \
  || fail "a mips64le base on an amd64 executor: exit $rc, $(cat "$T/arm.err")"
proxy stats | python3 -c '
import json, sys
log = json.load(sys.stdin)["log"][int(sys.argv[1]):]
assert [l for l in log if sys.argv[2] in l], log
assert not [l for l in log if sys.argv[3] in l], log
' "$before" "$arm_layer" "$(cat "$T/multi/amd64-manifest")" || fail "--platform linux/mips64le fetched the wrong image"
build debarm "debian:bookworm" --platform linux/arm64
[[ $rc == 2 ]] && grep -q "^pbrx build-images: --platform linux/arm64 applies to oci: and docker:// bases" "$T/debarm.err" \
  || fail "--platform with a debian: base: exit $rc, $(cat "$T/debarm.err")"
echo "--platform linux/mips64le: the mips64le image pulled, its steps refused by an amd64 executor"

# --- what the registry does not have; a malformed reference --------------
build missing "docker://$P/nope:v1"
[[ $rc == 1 ]] && grep -q "^pbrx build-images: --base docker://$P/nope:v1: .*HTTP 404" "$T/missing.err" \
  || fail "a missing tag: exit $rc, $(cat "$T/missing.err")"
ZERO="sha256:$(printf '0%.0s' {1..64})"
build nodigest "docker://$P/regbase-base@$ZERO"
[[ $rc == 1 ]] && grep -q "^pbrx build-images: --base docker://$P/regbase-base@$ZERO: .*HTTP 404" "$T/nodigest.err" \
  || fail "a missing digest: exit $rc, $(cat "$T/nodigest.err")"
build malformed "docker://$P/Team;touch pwned"
[[ $rc == 2 ]] && grep -q "^pbrx build-images: --base: image reference '$P/Team;touch pwned': 'Team;touch pwned' is not a valid repository path component" "$T/malformed.err" \
  || fail "a malformed reference: exit $rc, $(cat "$T/malformed.err")"
for f in missing nodigest malformed; do [[ ! -e "$T/$f" ]] || fail "a failed build left oci:$T/$f"; done
[[ ! -e pwned && ! -e "$T/pwned" ]] || fail "the reference ran a command"
echo "missing tag, missing digest, malformed reference: clear errors, no layout"

# --- on a farm: the digests of embedded mode ------------------------------
from=$(next_line "$T/cache.err")
launch_cache "$T/cache/db" --metrics-listen=127.0.0.1:0
CACHE_METRICS=$(metrics_addr "$T/cache.err" "$from")
start_coordinator "$CACHE_ADDR" --metrics-listen=127.0.0.1:0
start_executor e1 "$COORD_ADDR" "$CACHE_ADDR" --slots=2
wait_executors 1
before=$(requests)
build farm "docker://$P/regbase-base@$D" --farm "grpc://$COORD_ADDR"
[[ $rc == 0 ]] || { cat "$T/farm.err" "$T/coord.err"; fail "farm build on the pinned base: exit $rc"; }
[[ "$(requests)" == "$before" ]] || fail "the farm build contacted the registry"
diff <(sort "$T/pinned.out") <(sort "$T/farm.out") || fail "farm and embedded digests differ"
echo "farm: same digests as embedded mode"

# --- a farm --push: from the farm's cache to the registry -----------------
cache_read() {
  curl -sf --noproxy '*' "http://$CACHE_METRICS/metrics" | awk '/^pbrx_cache_read_bytes_total / {printf "%d\n", $2}'
}
# The bytes of the images' blobs (config and layers), from the farm build's layout.
image_bytes=$(python3 - "$T/farm" <<'PY'
import json, sys
d = sys.argv[1]
total = 0
for m in json.load(open(f"{d}/index.json"))["manifests"]:
    if "artifactType" in m:
        continue  # an SBOM or provenance, not an image
    man = json.load(open(f"{d}/blobs/sha256/{m['digest'].split(':')[1]}"))
    total += man["config"]["size"] + sum(l["size"] for l in man["layers"])
print(total)
PY
)
farm_push() {  # farm_push NAME: onbase pushed by the farm; rc, $T/NAME.{out,err}
  rc=0
  mkdir -p "$T/$1.cwd"
  (cd "$T/$1.cwd" && "$PBRX" build-images --cache-dir "$T/cache" --prefix "$P" --tag v1 \
    --base "docker://$P/regbase-base@$D" --farm "grpc://$COORD_ADDR" --push "$T/onbase" \
    >"$T/$1.out" 2>"$T/$1.err") || rc=$?
}
read0=$(cache_read); sent0=$(blob_bytes)
farm_push farmpush1
[[ $rc == 0 ]] || { cat "$T/farmpush1.err" "$T/coord.err"; fail "farm --push: exit $rc"; }
read1=$(cache_read); sent1=$(blob_bytes)
# REF@DIGEST per tag (after the build's "REF DIGEST" lines): the digests of
# the farm build, and skopeo agrees.
grep @ "$T/farmpush1.out" | sed 's/@/ /' | sort >"$T/farmpush1.refs"
diff "$T/farmpush1.refs" <(sort "$T/farm.out") || fail "farm --push printed other refs or digests: $(cat "$T/farmpush1.out" "$T/farm.out" "$T/farmpush1.err")"
while read -r ref digest; do
  got=$(skopeo inspect --tls-verify=false "docker://${ref/$P/$PLAIN/team}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
  [[ "$got" == "$digest" ]] || fail "the registry has $got for $ref, pushed $digest"
  # Its SBOM and provenance went from the farm's cache too, listed under
  # the referrers tag (docker-registry 2.8 has no referrers API).
  direct=${ref/$P/$PLAIN/team}
  skopeo inspect --raw --tls-verify=false "docker://${direct%:*}:sha256-${digest#sha256:}" \
    | python3 -c 'import json,sys; t = sorted(m["artifactType"] for m in json.load(sys.stdin)["manifests"]); assert t == ["application/spdx+json", "application/vnd.in-toto+json"], t' \
    || fail "no SBOM and provenance for $ref in the registry"
done <"$T/farmpush1.refs"
[[ -z "$(ls -A "$T/farmpush1.cwd")" ]] || fail "a farm --push wrote a local layout: $(ls -A "$T/farmpush1.cwd")"
# The base's layers were in the registry already: the cache served the
# blobs the registry lacked (what it received) and little more (manifests,
# Action Cache entries), far from the images' bytes.
(( image_bytes > 4 * 1024 * 1024 )) || fail "the images are too small to tell ($image_bytes bytes)"
(( read1 - read0 <= sent1 - sent0 + 512 * 1024 )) \
  || fail "the farm's cache served $((read1 - read0)) bytes for a push that sent $((sent1 - sent0)) (images: $image_bytes)"
echo "farm --push: sent $((sent1 - sent0)) blob bytes, the cache served $((read1 - read0)) (images: $image_bytes bytes)"
farm_push farmpush2
[[ $rc == 0 ]] || { cat "$T/farmpush2.err"; fail "second farm --push: exit $rc"; }
read2=$(cache_read); sent2=$(blob_bytes)
[[ $((sent2 - sent1)) == 0 ]] || fail "the second farm --push sent $((sent2 - sent1)) blob bytes"
(( read2 - read1 <= 512 * 1024 )) || fail "the second farm --push read $((read2 - read1)) bytes from the cache"
echo "second farm --push: 0 blob bytes sent, the cache served $((read2 - read1))"
rc=0
"$PBRX" build-images --cache-dir "$T/cache" --output "oci:$T/nopush" --farm "grpc://$COORD_ADDR" --push "$T/onbase" \
  >/dev/null 2>"$T/outpush.err" || rc=$?
[[ $rc == 2 ]] && grep -q "^pbrx build-images: --output with --farm and --push: a farm push goes from the farm's cache" "$T/outpush.err" \
  || fail "--output with --farm --push: exit $rc, $(cat "$T/outpush.err")"
[[ ! -e "$T/nopush" ]] || fail "a refused command wrote oci:$T/nopush"
echo PASS
