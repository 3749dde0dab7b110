#!/usr/bin/env bash
# Hostile base images through the real `pbrx build-images --base oci:DIR`:
# layouts whose layers or digests attack the host. Each build must fail with
# the exact reason, naming the layer and entry or the blob, and the host
# must be untouched (no file at the attacked paths, the canary tree
# byte-identical).
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$T/canary/etc"
echo "canary secret" >"$T/canary/secret"
snapshot() { (cd "$T/canary" && find . -printf '%p %m %s %T@\n' | sort && cat secret) | sha256sum; }
before=$(snapshot)
cp -rL "$REPO/examples/pep621-hello" "$T/hello"

# layout DIR KIND: an OCI layout with one image "evil" whose single layer
# (or digest) is the attack KIND.
layout() {
  python3 - "$1" "$2" "$T/canary" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
out, kind, canary = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out + "/blobs/sha256", exist_ok=True)
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{h}", "wb").write(data)
    return h
def tar(entries):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            if e.get("link"):
                ti.type = tarfile.SYMTYPE; ti.linkname = e["link"]; t.addfile(ti)
            elif e.get("hard"):
                ti.type = tarfile.LNKTYPE; ti.linkname = e["hard"]; t.addfile(ti)
            else:
                data = e.get("data", b"x")
                ti.size = len(data); ti.mode = 0o644; t.addfile(ti, io.BytesIO(data))
    return bio.getvalue()
attacks = {
    "symlink-then-write": [{"name": "etc", "link": "/etc"}, {"name": "etc/pbrx-hostile", "data": b"owned"}],
    "dotdot": [{"name": "../../../../../../tmp/pbrx-hostile", "data": b"owned"}],
    "hardlink-to-host": [{"name": "shadow", "hard": "/etc/shadow"}],
    "whiteout-through-symlink": [{"name": "c", "link": canary}, {"name": "c/.wh.secret"}],
}
layer = tar(attacks.get(kind, [{"name": "ok", "data": b"ok"}]))
diff = hashlib.sha256(layer).hexdigest()
gz = gzip.compress(layer, mtime=0)
lh = blob(gz)
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff]}}).encode()
ch = blob(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + ch, "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + lh, "size": len(gz)}]}).encode()
mh = blob(manifest)
digest = "sha256:" + mh
if kind == "digest-traversal":
    digest = "sha256:../../../../canary/secret"
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": digest, "size": len(manifest),
    "annotations": {"org.opencontainers.image.ref.name": "evil"}}]}, open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
print(lh)
PY
}

attack() {  # KIND EXPECTED-MESSAGE (grep -F, "{layer}" = the layer digest)
  local kind="$1" want="$2" layer
  layer=$(layout "$T/base-$kind" "$kind")
  set +e
  "$PBRX" build-images --cache-dir "$T/cache-$kind" --output "oci:$T/out-$kind" \
    --base "oci:$T/base-$kind:evil" "$T/hello" >"$T/$kind.out" 2>"$T/$kind.err"
  local rc=$?
  set -e
  [[ $rc == 1 ]] || { cat "$T/$kind.err"; fail "$kind: want exit 1, got $rc"; }
  want=${want//\{layer\}/$layer}
  grep -qF -- "$want" "$T/$kind.err" || { cat "$T/$kind.err"; fail "$kind: no '$want'"; }
  [[ ! -s "$T/$kind.out" ]] || fail "$kind: images were tagged"
}
attack symlink-then-write "pbrx build-images: $T/hello: layer {layer}/"
attack symlink-then-write "entry 'etc/pbrx-hostile': 'etc' is a symlink (paths are never followed through one)"
attack dotdot "entry '../../../../../../tmp/pbrx-hostile': absolute or contains '..'"
attack hardlink-to-host "entry 'shadow': a hard link to '/etc/shadow', which is absolute or contains '..'"
attack whiteout-through-symlink "entry 'c/.wh.secret': 'c' is a symlink (paths are never followed through one)"
attack digest-traversal "manifest: digest 'sha256:../../../../canary/secret' is not sha256: followed by 64 lowercase hex digits"

for p in /etc/pbrx-hostile /tmp/pbrx-hostile; do [[ ! -e "$p" ]] || fail "$p was created"; done
[[ "$(snapshot)" == "$before" ]] || fail "the canary tree changed"
echo PASS
