#!/usr/bin/env bash
# Two clean builds (two empty caches: two mmdebstrap runs, two apt layers,
# two compilations of the C extension, two byte-compilations) of example
# (a) give identical image digests.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
cp -rL "$REPO/examples/pbr-service" "$T/src"
stage_dists "$T/links"
for n in 1 2; do
  "$PBRX" build-images --cache-dir "$T/cache$n" --output "oci:$T/images$n" --find-links "$T/links" \
    "$T/src" >"$T/out$n" 2>"$T/err$n" || { cat "$T/err$n"; fail "build $n"; }
  cat "$T/out$n" "$T/err$n"
  rm -rf "$T/cache$n"
done
[[ $(wc -l <"$T/out1") == 3 ]] || fail "want 3 images"
diff "$T/out1" "$T/out2" || fail "two clean builds differ"
echo PASS
