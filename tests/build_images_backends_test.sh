#!/usr/bin/env bash
# PEP 517 backends besides setuptools and pbr: a hatchling, a flit_core and
# a poetry-core project (poetry keeps its metadata in [tool.poetry], so the
# names and scripts come from the wheel), built in one call with --jobs 3.
# Each builder gets its backend's Debian package; each script image runs.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
CACHE="$T/cache"
seeded_cache "$CACHE"

mkdir -p "$T/hatch/hatch_demo" "$T/flit/flit_demo" "$T/poetry/poetry_demo"
cat >"$T/hatch/pyproject.toml" <<'TOML'
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
[project]
name = "hatch-demo"
version = "0.1.0"
[project.scripts]
hatch-demo = "hatch_demo:main"
TOML
echo 'def main(): print("built by hatchling")' >"$T/hatch/hatch_demo/__init__.py"
cat >"$T/flit/pyproject.toml" <<'TOML'
[build-system]
requires = ["flit_core >=3.2,<4"]
build-backend = "flit_core.buildapi"
[project]
name = "flit_demo"
version = "0.2.0"
description = "a flit_core example"
[project.scripts]
flit-demo = "flit_demo:main"
TOML
echo 'def main(): print("built by flit_core")' >"$T/flit/flit_demo/__init__.py"
cat >"$T/poetry/pyproject.toml" <<'TOML'
[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
[tool.poetry]
name = "poetry-demo"
version = "0.3.0"
description = "a poetry-core example"
authors = ["pbrx farm <pbrx@example.org>"]
packages = [{include = "poetry_demo"}]
[tool.poetry.scripts]
poetry-demo = "poetry_demo:main"
TOML
echo 'def main(): print("built by poetry-core")' >"$T/poetry/poetry_demo/__init__.py"

"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/images" --jobs 3 --json \
  "$T/hatch" "$T/flit" "$T/poetry" >"$T/report.json" 2>"$T/err" || { cat "$T/err"; fail "build"; }
save_seed "$CACHE"
python3 - "$T/report.json" <<'PY' || fail "report"
import json, sys
r = json.load(open(sys.argv[1]))
got = [(p["name"], p["version"], sorted(i["ref"] for i in p["images"])) for p in r["projects"]]
assert got == [
    ("hatch-demo", "0.1.0", ["hatch-demo-base:latest", "hatch-demo:latest"]),
    # The base image keeps the project's own spelling; the script's name
    # is the entry point's.
    ("flit_demo", "0.2.0", ["flit-demo:latest", "flit_demo-base:latest"]),
    ("poetry-demo", "0.3.0", ["poetry-demo-base:latest", "poetry-demo:latest"]),
], got
PY
for s in hatch-demo:hatchling flit-demo:flit_core poetry-demo:poetry-core; do
  out=$(run_image images "${s%%:*}:latest")
  [[ "$out" == "built by ${s#*:}" ]] || fail "${s%%:*}: $out"
done
# The builders differ only by the backend package; no backend reaches the
# images.
rm -rf "$T/bundle" && umoci unpack --image "$T/images:hatch-demo:latest" "$T/bundle" >/dev/null
[[ ! -d "$T/bundle/rootfs/usr/lib/python3/dist-packages/hatchling" ]] || fail "hatchling leaked into the image"
echo PASS
