#!/usr/bin/env bash
# --output oci-archive:FILE and docker-archive:FILE, read by the real
# consumers:
#   - oci-archive: skopeo sees in it the manifest digests of an oci: build of
#     the same project, and copies an image out of it byte for byte;
#   - docker-archive: `podman load` loads every image under its tags and
#     `podman run --runtime runc` of the script image prints its greeting;
#     the configs are those of the oci: build (same digests);
#   - the same build twice gives the same archive bytes; no temporary
#     layout or partial file is left;
#   - usage errors (an unknown form, a directory that does not exist) exit 2
#     naming --output, before anything is built.
set -euo pipefail
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
PBRX="$REPO/client/pbrx"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
source "$REPO/tests/podman_lib.sh"
trap podman_cleanup EXIT

RUN="$(date +%s%N)-$$"
write_pyproject "$T/arcdemo" arcdemo
mkdir -p "$T/arcdemo/arcdemo"
printf 'def main():\n    print("arcdemo says hello %s")\n' "$RUN" >"$T/arcdemo/arcdemo/__init__.py"
seeded_cache "$T/cache"
build() {  # build OUTPUT: refs on stdout
  "$PBRX" build-images --cache-dir "$T/cache" --output "$1" --tag v1 "$T/arcdemo" 2>"$T/build.err" \
    || { cat "$T/build.err"; fail "build-images --output $1"; }
}
build "oci:$T/layout" >"$T/layout.out"
save_seed "$T/cache"
[[ $(wc -l <"$T/layout.out") == 2 ]] || fail "want 2 images: $(cat "$T/layout.out")"
build "oci-archive:$T/images-oci.tar" >"$T/oci.out"
build "docker-archive:$T/images-docker.tar" >"$T/docker.out"
diff "$T/layout.out" "$T/oci.out" >/dev/null || fail "an oci-archive build printed other refs or digests"
[[ -z "$(ls -A "$T/cache/tmp" 2>/dev/null)" ]] || fail "temporary files left: $(ls -A "$T/cache/tmp")"
[[ -z "$(ls "$T" | grep pbrx-tmp || true)" ]] || fail "a partial archive was left"

# --- oci-archive: the layout's digests, as skopeo reads them ---------------
while read -r ref digest; do
  got=$(skopeo inspect "oci-archive:$T/images-oci.tar:$ref" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
  [[ "$got" == "$digest" ]] || fail "oci-archive: skopeo sees $got for $ref, the layout has $digest"
done <"$T/layout.out"
script_ref=$(awk '$1 !~ /-base:v1$/ {print $1}' "$T/layout.out")
skopeo copy -q "oci-archive:$T/images-oci.tar:$script_ref" "oci:$T/back:x" >/dev/null
want=$(awk -v r="$script_ref" '$1 == r {print $2}' "$T/layout.out")
cmp "$T/back/blobs/sha256/${want#sha256:}" "$T/layout/blobs/sha256/${want#sha256:}" || fail "oci-archive: manifest bytes differ"
echo "oci-archive: skopeo reads the layout's digests"

# --- docker-archive: podman load and run ----------------------------------
podman_ load -q -i "$T/images-docker.tar" >"$T/podman.load" 2>"$T/podman.err" || { cat "$T/podman.err"; fail "podman load"; }
while read -r ref digest; do
  # The image podman loaded under the tag has the layout's config.
  config=$(python3 - "$T/layout" "$digest" <<'PY'
import json, sys
print(json.load(open(f"{sys.argv[1]}/blobs/sha256/{sys.argv[2].split(':')[1]}"))["config"]["digest"])
PY
)
  got=$(podman_ image inspect --format '{{.Id}}' "$ref" 2>"$T/podman.err") || { cat "$T/podman.err" "$T/podman.load"; fail "podman has no $ref"; }
  [[ "sha256:$got" == "$config" || "$got" == "$config" ]] || fail "podman's $ref has config $got, the layout $config"
done <"$T/layout.out"
out=$(podman_ run --rm --network none "$script_ref" 2>"$T/podman.err") || { cat "$T/podman.err"; fail "podman run"; }
[[ "$out" == "arcdemo says hello $RUN" ]] || fail "podman run printed '$out'"
echo "docker-archive: podman loads both images and runs $script_ref"

# --- the same bytes again -------------------------------------------------
build "docker-archive:$T/again-docker.tar" >/dev/null
build "oci-archive:$T/again-oci.tar" >/dev/null
cmp "$T/images-docker.tar" "$T/again-docker.tar" || fail "docker-archive bytes differ between two builds"
cmp "$T/images-oci.tar" "$T/again-oci.tar" || fail "oci-archive bytes differ between two builds"
echo "reproducible: $(stat -c %s "$T/images-docker.tar") and $(stat -c %s "$T/images-oci.tar") bytes, the same twice"

# --- usage errors ---------------------------------------------------------
usage() {  # usage OUTPUT MESSAGE
  local rc=0
  "$PBRX" build-images --cache-dir "$T/cache" --output "$1" "$T/arcdemo" >"$T/usage.out" 2>"$T/usage.err" || rc=$?
  [[ $rc == 2 ]] && grep -qF -- "$2" "$T/usage.err" || fail "--output $1: exit $rc, $(cat "$T/usage.err")"
  [[ ! -s "$T/usage.out" ]] || fail "--output $1 built images"
}
usage "tar:$T/x.tar" "pbrx build-images: --output tar:$T/x.tar: expected oci:DIR, oci-archive:FILE or docker-archive:FILE"
usage "docker-archive:$T/missing/x.tar" "pbrx build-images: --output docker-archive:$T/missing/x.tar: the directory $T/missing does not exist or cannot be written"
usage "oci-archive:" "expected oci:DIR, oci-archive:FILE or docker-archive:FILE"
[[ ! -e "$T/missing" && ! -e "$T/x.tar" ]] || fail "a refused command wrote files"
echo PASS
