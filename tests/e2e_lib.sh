# Helpers shared by the build-images end-to-end tests (sourced; they expect
# T=$TEST_TMPDIR and REPO=the runfiles' workspace root).

fail() { echo "FAIL: $*" >&2; exit 1; }

# stage_dists OUT: writes the fixture sdists into OUT (a --find-links dir).
# Fixtures and tools are copied under $T so a test may change them.
stage_dists() {
  mkdir -p "$T/tests/fixtures" "$T/tools"
  [[ -d "$T/tests/fixtures/dists" ]] || cp -rL "$REPO/tests/fixtures/dists" "$T/tests/fixtures/dists"
  cp -L "$REPO/tools/make-fixture-dists" "$REPO/tools/make-test-index" "$T/tools/"
  "$T/tools/make-fixture-dists" "$1"
}

# run_image LAYOUT REF ARGS...: unpacks $T/LAYOUT:REF with umoci into
# $T/bundle and runs the image's CMD with ARGS under bubblewrap.
run_image() {
  local layout="$1" ref="$2"; shift 2
  rm -rf "$T/bundle"
  umoci unpack --image "$T/$layout:$ref" "$T/bundle" >/dev/null
  local cmd
  cmd=$(skopeo inspect --config "oci:$T/$layout:$ref" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["Cmd"][0])')
  bwrap --ro-bind "$T/bundle/rootfs" / --proc /proc --dev /dev --unshare-all --cap-drop ALL \
    --clearenv --setenv PATH /usr/local/bin:/usr/bin:/bin -- "$cmd" "$@"
}
