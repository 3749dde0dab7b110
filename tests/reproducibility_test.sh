#!/usr/bin/env bash
# Two clean builds (two empty caches: two mmdebstrap runs, two apt layers,
# two compilations of the C extension, two byte-compilations) of both
# examples give identical image digests: the first one step at a time
# (--jobs 1), the second with both projects and their independent steps
# running at once (--jobs 4).
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
require_mirror >/dev/null  # both builds run mmdebstrap and apt
cp -rL "$REPO/examples/pbr-service" "$T/src"
cp -rL "$REPO/examples/pep621-hello" "$T/hello"
stage_dists "$T/links"
jobs=(1 4)
for n in 1 2; do
  "$PBRX" build-images --cache-dir "$T/cache$n" --output "oci:$T/images$n" --find-links "$T/links" \
    --jobs "${jobs[n-1]}" "$T/src" "$T/hello" >"$T/out$n" 2>"$T/err$n" || { cat "$T/err$n"; fail "build $n"; }
  cat "$T/out$n" "$T/err$n"
  sort -o "$T/out$n" "$T/out$n"
  rm -rf "$T/cache$n"
done
[[ $(wc -l <"$T/out1") == 6 ]] || fail "want 6 images"
diff "$T/out1" "$T/out2" || fail "two clean builds differ"
# Both projects' images are in the one layout.
for ref in pbrx-service-api:latest hello-pbrx:latest; do
  skopeo inspect "oci:$T/images2:$ref" >/dev/null || fail "$ref missing from the shared layout"
done
echo PASS
