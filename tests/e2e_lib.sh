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

# make_sdist DIR NAME VERSION SLEEP: writes DIR/NAME-VERSION.tar.gz, an sdist
# of one module whose wheel build sleeps SLEEP seconds (reproducible bytes).
# Its module holds RUN (set it to a token unique to the test run) so no other
# test's sdist of the same name and version shares its digest.
make_sdist() {
  local d="$T/sd/$2-$3"
  mkdir -p "$d"
  cat >"$d/setup.py" <<PY
import sys, time
from setuptools import setup
if "bdist_wheel" in sys.argv:
    time.sleep($4)
setup(name="$2", version="$3", py_modules=["$2"])
PY
  printf "VALUE = '%s %s'\nRUN = '%s'\n" "$2" "$3" "${RUN:?}" >"$d/$2.py"
  mkdir -p "$1"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$T/sd" -cf - "$2-$3" | gzip -n >"$1/$2-$3.tar.gz"
}

# write_pyproject DIR NAME [DEPENDENCY...]: DIR/pyproject.toml of a setuptools
# project NAME 1.0 with those dependencies and one script NAME = NAME:main.
write_pyproject() {
  local dir="$1" name="$2"; shift 2
  local deps="" d
  for d in "$@"; do deps+="${deps:+, }\"$d\""; done
  mkdir -p "$dir"
  cat >"$dir/pyproject.toml" <<TOML
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
[project]
name = "$name"
version = "1.0"
dependencies = [$deps]
[project.scripts]
$name = "$name:main"
TOML
}

# start_other_host: another "host" for servers the build steps must reach:
# a network namespace held by a process of its own (in PIDS when that array
# is set, else in HOLDER; the namespace and its veth pair go when that
# process is killed), 10.214.N.2 there and 10.214.N.1 here. Steps reach it
# as they reach the outside (their own namespace and slirp4netns), not as
# this host (whose addresses they may not reach). Sets OTHER_NS (its
# /proc/PID/ns/net), OTHER_IP, OTHER_HOLDER.
start_other_host() {
  local n=$(( $$ % 200 + 20 ))
  unshare --net sleep 3600 &
  OTHER_HOLDER=$!
  if declare -p PIDS >/dev/null 2>&1; then PIDS+=("$OTHER_HOLDER"); fi
  OTHER_NS="/proc/$OTHER_HOLDER/ns/net"
  for _ in $(seq 1 100); do
    [[ "$(readlink "$OTHER_NS")" != "$(readlink /proc/self/ns/net)" ]] && break
    sleep 0.05
  done
  ip link add "pbxi$$" type veth peer name "pbxj$$" netns "$OTHER_HOLDER"
  ip addr add "10.214.$n.1/30" dev "pbxi$$"
  ip link set "pbxi$$" up
  nsenter --net="$OTHER_NS" ip addr add "10.214.$n.2/30" dev "pbxj$$"
  nsenter --net="$OTHER_NS" ip link set "pbxj$$" up
  nsenter --net="$OTHER_NS" ip link set lo up
  OTHER_IP="10.214.$n.2"
}
