#!/usr/bin/env bash
# End to end: `pbrx build-images` (embedded mode) on examples/pep621-hello,
# checked with skopeo and umoci, the images' CMDs run under bubblewrap, and a
# second build that executes zero steps. The test's cache starts from the
# machine-wide seed (Debian base and apt layers only, tests/seed_lib.sh):
# every other step runs with the build under test.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
EXAMPLE="$TEST_SRCDIR/pbrx/examples/pep621-hello"
T="$TEST_TMPDIR"
REPO="$TEST_SRCDIR/pbrx"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
CACHE="$T/cache"
seeded_cache "$CACHE"

# The example is copied: runfiles are symlinks, and builds must not write
# into the source tree.
cp -rL "$EXAMPLE" "$T/src"
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/images" --tag latest --tag v0.3 "$T/src" \
  >"$T/out1" 2>"$T/err1" || { cat "$T/err1"; fail "first build"; }
cat "$T/out1"
save_seed "$CACHE"
[[ $(wc -l <"$T/out1") == 6 ]] || fail "want 6 refs (3 images x 2 tags)"
for ref in hello-pbrx-base:latest hello-pbrx:latest hello-pbrx-info:v0.3; do
  grep -q "^$ref sha256:[0-9a-f]\{64\}$" "$T/out1" || fail "no line for $ref"
done

# skopeo sees the refs, CMDs and labels.
skopeo inspect --config "oci:$T/images:hello-pbrx:latest" >"$T/config.json"
grep -q '"/usr/local/bin/hello-pbrx"' "$T/config.json" || fail "CMD of hello-pbrx"
grep -q '"org.opencontainers.image.version": "0.3.0"' "$T/config.json" || fail "version label"
digest=$(skopeo inspect "oci:$T/images:hello-pbrx:latest" | sed -n 's/.*"Digest": "\(sha256:[0-9a-f]*\)".*/\1/p')
grep -q "^hello-pbrx:latest $digest$" "$T/out1" || fail "skopeo digest $digest differs from the CLI's"

# Each script image runs its CMD.
run_cmd() { run_image images "$@"; }
[[ "$(run_cmd hello-pbrx:latest --help)" == "usage: hello-pbrx [--help] [NAME]" ]] || fail "hello-pbrx --help"
[[ "$(run_cmd hello-pbrx:latest pbrx)" == "hello, pbrx, from hello-pbrx 0.3.0" ]] || fail "hello-pbrx run"
[[ "$(run_cmd hello-pbrx-info:latest)" == "hello-pbrx 0.3.0 on Python 3.11."* ]] || fail "info"
# Base, runtime packages, the Python layer and its byte-code; not the builder.
layers=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rootfs"]["diff_ids"]))' "$T/config.json")
[[ "$layers" == 4 ]] || fail "want 4 layers (base, runtime, python, bytecode), got $layers"
[[ ! -e "$T/bundle/rootfs/usr/bin/gcc" ]] || fail "a compiler in the image"
[[ -e "$T/bundle/rootfs/etc/ssl/certs/ca-certificates.crt" ]] || fail "runtime package missing"
[[ -z "$(ls "$T/bundle/rootfs/var/lib/apt/lists/" 2>/dev/null | grep -v lock || true)" ]] || fail "apt lists in the image"

# A second build executes nothing and gives the same digests.
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/images2" --tag latest --tag v0.3 "$T/src" \
  >"$T/out2" 2>"$T/err2" || { cat "$T/err2"; fail "second build"; }
cat "$T/err2"
grep -q "steps: [0-9]* cached, 0 run" "$T/err2" || fail "second build ran steps"
diff "$T/out1" "$T/out2" || fail "digests differ between builds"

# Each image carries its SPDX SBOM and SLSA provenance as OCI referrers:
# the project's wheel, the distro packages of its rootfs (the runtime
# package too), the same bytes on the second build.
for ref in hello-pbrx-base:latest hello-pbrx:v0.3; do
  for out in images images2; do
    python3 "$REPO/tests/attestation_check.py" "$T/$out" "$ref" --pypi hello-pbrx \
      --deb libc6 --deb python3 --deb ca-certificates --builder urn:pbrx:builder:embedded \
      --print-digests >"$T/att-$out" || fail "attestations of $ref in $out"
  done
  cmp "$T/att-images" "$T/att-images2" || fail "the attestations of $ref differ between builds"
done

# Labels: the source URL from the project's metadata; the git revision when
# the project is a git checkout.
grep -q '"org.opencontainers.image.source": "https://example.org/pbrx-farm/hello-pbrx"' "$T/config.json" \
  || fail "source label"
grep -q 'org.opencontainers.image.revision' "$T/config.json" && fail "revision label without git"
cp -r "$T/src" "$T/src-git"
git -C "$T/src-git" init -q
git -C "$T/src-git" add -A
git -C "$T/src-git" -c user.name=pbrx -c user.email=pbrx@example.org commit -qm "test commit"
head=$(git -C "$T/src-git" rev-parse HEAD)
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/git" "$T/src-git" >/dev/null 2>"$T/git.err" \
  || { cat "$T/git.err"; fail "build of a git checkout"; }
skopeo inspect --config "oci:$T/git:hello-pbrx:latest" \
  | grep -q "\"org.opencontainers.image.revision\": \"$head\"" || fail "revision label"

# An OCI image as the base (--base oci:DIR:REF): here the base image just
# built; the new images stack on its layers and still run their CMD.
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/on-oci" \
  --base "oci:$T/images:hello-pbrx-base:latest" "$T/src" >"$T/oci.out" 2>"$T/oci.err" \
  || { cat "$T/oci.err"; fail "build on an OCI base"; }
skopeo inspect --config "oci:$T/on-oci:hello-pbrx:latest" >"$T/oci-config.json"
grep -q "\"org.opencontainers.image.base.name\": \"oci:$T/images:hello-pbrx-base:latest\"" "$T/oci-config.json" \
  || fail "base.name label"
base_manifest=$(grep "^hello-pbrx-base:latest " "$T/out1" | cut -d' ' -f2)
grep -q "\"org.opencontainers.image.base.digest\": \"$base_manifest\"" "$T/oci-config.json" || fail "base.digest label"
[[ "$(run_image on-oci hello-pbrx:latest oci)" == "hello, oci, from hello-pbrx 0.3.0" ]] || fail "CMD on an OCI base"
[[ ! -e "$T/bundle/rootfs/work" ]] || fail "the sandbox's mount points leaked into the image"
set +e
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/x" --base "oci:$T/images:nope" "$T/src" \
  >/dev/null 2>"$T/nope.err"
[[ $? == 1 ]] || fail "unknown base ref exit code"
set -e
# The layout is verified by the oci-base step (on an executor in a farm).
grep -qF "step base (oci:$T/images:nope) failed" "$T/nope.err" && grep -qF "no image 'nope' in the base layout (refs: " "$T/nope.err" \
  || fail "unknown base ref message: $(cat "$T/nope.err")"

# --json report and usage errors.
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/images3" --json "$T/src" >"$T/report.json" 2>"$T/events"
python3 - "$T/report.json" "$T/events" <<'PY' || fail "json report"
import json, re, sys
r = json.load(open(sys.argv[1]))
# Progress events on stderr, one JSON object per line: one as each step
# starts (image assembly is not a step the executor runs), one per step
# with its result, then the project's.
events = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
steps = r["projects"][0]["steps"]
assert [e["event"] for e in events if e["event"] != "step_started"] == ["step"] * len(steps) + ["project"], events
started = [(e["kind"], e["name"]) for e in events if e["event"] == "step_started"]
assert sorted(started) == sorted((s["kind"], s["name"]) for s in steps if s["kind"] != "image-assembly"), started
assert all(isinstance(e["seconds"], float) and e["failed"] is False for e in events if e["event"] == "step"), events
assert events[-1] == {"event": "project", "dir": r["projects"][0]["dir"], "name": "hello-pbrx",
                      "version": "0.3.0", "images": 3}, events[-1]
p = r["projects"][0]
assert r["schema"] == "pbrx.build/v2"
assert p["name"] == "hello-pbrx" and p["version"] == "0.3.0", p
# The base: its name and the digest the images' base annotations carry.
assert p["base"]["name"] == "debian:bookworm", p["base"]
assert re.fullmatch(r"sha256:[0-9a-f]{64}", p["base"]["digest"]), p["base"]
assert len(p["images"]) == 3, p["images"]
assert all(s["cached"] for s in p["steps"] if s["kind"] != "image-assembly"), p["steps"]
assert all("key_inputs" not in s for s in p["steps"]), "hits need no explanation"
PY
# A changed project: the steps that ran say what their keys were made of.
echo "# touched $(date +%s%N)" >>"$T/src/src/hello_pbrx/cli.py"
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/images5" --json "$T/src" >"$T/report5.json"
python3 - "$T/report5.json" <<'PY' || fail "json key inputs"
import json, sys
steps = json.load(open(sys.argv[1]))["projects"][0]["steps"]
ran = {s["kind"]: s for s in steps if not s["cached"] and s["kind"] != "image-assembly"}
assert set(ran) == {"project-wheel", "python-layer", "bytecode"}, sorted(ran)
w = ran["project-wheel"]["key_inputs"]
assert w["argv"][:4] == ["python3", "-m", "pip", "wheel"], w
assert "rootfs" in w["platform"] and "/" in w["input_root"], w
PY
set +e
"$PBRX" build-images --bogus >/dev/null 2>&1; [[ $? == 2 ]] || fail "usage error exit code"
"$PBRX" build-images --action-memory 1k "$T/src" >/dev/null 2>"$T/mem.err"
[[ $? == 2 ]] || fail "--action-memory 1k exit code"
grep -qxF "pbrx build-images: --action-memory 1024 bytes is below the minimum 16M" "$T/mem.err" \
  || { cat "$T/mem.err"; fail "--action-memory message"; }
"$PBRX" build-images --farm grpc://127.0.0.1:1 --action-pids 100 "$T/src" >/dev/null 2>"$T/farmlim.err"
[[ $? == 2 ]] || fail "--action-pids with --farm exit code"
grep -qxF "pbrx build-images: --action-pids applies to embedded mode; a farm's executors set their own limits" \
  "$T/farmlim.err" || { cat "$T/farmlim.err"; fail "--action-pids with --farm message"; }
"$PBRX" build-images --cache-dir "$CACHE" --output "oci:$T/images4" /nonexistent/project >/dev/null 2>"$T/err4"
[[ $? == 1 ]] || fail "missing project exit code"
grep -q "/nonexistent/project: no such directory" "$T/err4" || fail "missing project message"
echo PASS
