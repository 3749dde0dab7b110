#!/usr/bin/env bash
# pbrx build-images --farm end to end: pbrx-cache, pbrx-coordinator and two
# pbrx-executor daemons as separate processes on loopback, the coordinator
# unprivileged, without PATH or environment and with a 16 MiB work dir. Both
# examples build on the farm with the same image digests as embedded mode; the
# images are usable (run with the C extension); a second farm build runs
# nothing; the --json report has embedded mode's form; `pbrx farm status`
# shows the executors; each sdist's wheel was built exactly once;
# an unreachable farm is one line and exit 3.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
source "$REPO/tests/farm_lib.sh"
CACHE_PID=""
trap 'stop_farm; [[ -n "$CACHE_PID" ]] && kill "$CACHE_PID" 2>/dev/null; true' EXIT

cp -rL "$REPO/examples/pbr-service" "$T/svc"
cp -rL "$REPO/examples/pep621-hello" "$T/hello"
stage_dists "$T/links"

# Embedded reference, in a cache of its own. Both caches start from the
# same seed, so both modes build on the same Debian base and apt layers:
# a Debian point release cannot make them differ.
seeded_cache "$T/embedded-cache"
"$PBRX" build-images --cache-dir "$T/embedded-cache" --output "oci:$T/embedded" --find-links "$T/links" \
  "$T/svc" "$T/hello" >"$T/embedded.out" 2>"$T/embedded.err" || { cat "$T/embedded.err"; fail "embedded build"; }
sort -o "$T/embedded.out" "$T/embedded.out"
save_seed "$T/embedded-cache"

seeded_cache "$T/farm-cache"
launch_cache "$T/farm-cache/db" --metrics-listen=127.0.0.1:0
CACHE_METRICS=$(metrics_addr "$T/cache.err")
# One project at a time (--max-parallel-projects=1): checked below.
# The coordinator only schedules: it runs as "nobody" with no PATH and a
# 16 MiB work dir, and still builds every image of embedded mode.
COORD_UNPRIVILEGED=1 start_coordinator "$CACHE_ADDR" --metrics-listen=127.0.0.1:0 --max-parallel-projects=1
[[ "$(stat -c %u "/proc/$COORD_PID")" == 65534 ]] || fail "the coordinator does not run as nobody"
[[ ! -s "/proc/$COORD_PID/environ" ]] || fail "the coordinator has an environment: $(tr '\0' ' ' <"/proc/$COORD_PID/environ")"
[[ "$(readlink "/proc/$COORD_PID/exe")" == /tmp/pbrx-coord-*/pbrx-coordinator ]] || fail "not the coordinator: $(readlink "/proc/$COORD_PID/exe")"
grep -q '^CapEff:[[:space:]]*0000000000000000$' "/proc/$COORD_PID/status" || fail "the coordinator has capabilities"
start_executor e1 "$COORD_ADDR" "$CACHE_ADDR" --slots=2 --metrics-listen=127.0.0.1:0
start_executor e2 "$COORD_ADDR" "$CACHE_ADDR" --slots=2 --metrics-listen=127.0.0.1:0
wait_executors 2
E1_METRICS=$(metrics_addr "$T/exec-e1.log")
E2_METRICS=$(metrics_addr "$T/exec-e2.log")
FARM="grpc://$COORD_ADDR"

"$PBRX" build-images --farm "$FARM" --output "oci:$T/farm" --find-links "$T/links" --json \
  "$T/svc" "$T/hello" >"$T/farm.json" 2>"$T/farm.err" \
  || { cat "$T/farm.err" "$T/coord.err" "$T/exec-e1.log"; fail "farm build"; }
python3 - "$T/farm.json" >"$T/farm.out" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1]))["projects"]:
    for i in p["images"]:
        print(i["ref"], i["digest"])
PY
sort -o "$T/farm.out" "$T/farm.out"
# The coordinator built one project at a time: the progress events of the
# two projects do not interleave (in parallel, both start with the base).
python3 - "$T/farm.err" <<'PY' || fail "--max-parallel-projects=1 ran projects at once"
import json, sys
dirs = [e["dir"] for e in (json.loads(l) for l in open(sys.argv[1]) if l.startswith("{"))]
switches = sum(a != b for a, b in zip(dirs, dirs[1:]))
assert len(set(dirs)) == 2 and switches == 1, (switches, dirs)
PY
[[ $(wc -l <"$T/farm.out") == 6 ]] || fail "want 6 image refs from the farm"
diff "$T/embedded.out" "$T/farm.out" || fail "farm digests differ from embedded mode"
# The SBOM and provenance came from the farm into the layout: the SBOM is
# embedded mode's byte for byte (the same build), the provenance names the
# farm as its builder; each image's SBOM lists only what it installs.
check_attestations() {  # LAYOUT REF BUILDER PYPI...: prints the two digests
  local args=()
  for p in "${@:4}"; do args+=(--pypi "$p"); done
  python3 "$REPO/tests/attestation_check.py" "$T/$1" "$2" --builder "$3" --deb libffi8 --deb libc6 \
    "${args[@]}" --print-digests || fail "attestations of $2 in $1"
}
for ref in pbrx-service-manage:latest pbrx-service-api:latest; do
  extra=(); [[ $ref == pbrx-service-manage:* ]] && extra=(pbrxdemo-table)
  read -r fs fp < <(check_attestations farm "$ref" urn:pbrx:builder:farm pbrx-service pbrxdemo-colors ffibridge "${extra[@]}")
  read -r es ep < <(check_attestations embedded "$ref" urn:pbrx:builder:embedded pbrx-service pbrxdemo-colors ffibridge "${extra[@]}")
  [[ -n "$fs" && "$fs" == "$es" ]] || fail "$ref: the farm's SBOM $fs is not embedded mode's $es"
  [[ -n "$fp" && "$fp" != "$ep" ]] || fail "$ref: the provenance does not name the builder"
done
if python3 "$REPO/tests/attestation_check.py" "$T/farm" pbrx-service-api:latest --pypi pbrxdemo-table 2>/dev/null; then
  fail "the api image's SBOM lists the manage image's extra"
fi
# The rootfs of the images, not the builder's: no compiler, no -dev package.
python3 - "$T/farm" "$fs" <<'PY' || fail "the SBOM lists a builder package"
import json, sys
m = json.load(open(f"{sys.argv[1]}/blobs/sha256/{sys.argv[2][7:]}"))
doc = json.load(open(f"{sys.argv[1]}/blobs/sha256/{m['layers'][0]['digest'][7:]}"))
names = {p["name"] for p in doc["packages"]}
assert "libffi8" in names and not {"gcc", "libffi-dev", "python3-dev"} & names, sorted(names)
PY
out=$(run_image farm pbrx-service-api:latest)
[[ "$out" == "[api ready, abs(-42) via libffi = 42]" ]] || fail "api image from the farm: $out"
skopeo inspect "oci:$T/farm:hello-pbrx:latest" >/dev/null || fail "hello image missing"

wheel_builds=$(metric 'pbrx_coordinator_steps_total{kind="wheel-build",outcome="executed"}')
echo "wheel builds executed: $wheel_builds"
# One wheel build per distinct sdist (ffibridge, pbrxdemo_colors,
# pbrxdemo_table), although the base and the manage image resolve some of
# them twice.
sdists=$(ls "$T/links"/*.tar.gz | wc -l)
[[ "${wheel_builds%.*}" == "$sdists" ]] || fail "want $sdists wheel builds (one per sdist), got $wheel_builds"
grep -q "registered as" "$T/exec-e1.log" && grep -q "registered as" "$T/exec-e2.log" || fail "executors did not register"

# Again: every step is a cache hit; the report has embedded mode's form.
PBRX_FARM="$FARM" "$PBRX" build-images --output "oci:$T/farm2" --find-links "$T/links" --json \
  "$T/svc" "$T/hello" >"$T/farm2.json" 2>"$T/farm2.err" || { cat "$T/farm2.err"; fail "second farm build"; }
python3 - "$T/farm2.json" "$T/farm2.err" <<'PY' || fail "second farm build report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "pbrx.build/v2", r
assert [len(p["images"]) for p in r["projects"]] == [3, 3], r
ran = [s for p in r["projects"] for s in p["steps"] if not s["cached"] and s["kind"] != "image-assembly"]
assert ran == [], ran
# Progress events on stderr as JSON lines, as in embedded mode.
events = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
steps = sum(len(p["steps"]) for p in r["projects"])
assert sum(e["event"] == "step" for e in events) == steps, (len(events), steps)
assert sorted(e["name"] for e in events if e["event"] == "project") == ["hello-pbrx", "pbrx-service"]
PY
# The second build wrote the same input trees and read the same outputs:
# the coordinator's small-blob cache answered from memory, and lost nothing.
skipped=$(metric 'pbrx_coordinator_small_blob_writes_total{result="skipped"}')
hits=$(metric 'pbrx_coordinator_small_blob_reads_total{result="hit"}')
held=$(metric 'pbrx_coordinator_small_blob_bytes')
restored=$(metric 'pbrx_coordinator_small_blob_writes_total{result="restored"}')
echo "small-blob cache: ${skipped%.*} writes skipped, ${hits%.*} reads from memory, ${held%.*} bytes held"
[[ "${skipped%.*}" -gt 0 && "${hits%.*}" -gt 0 && "${held%.*}" -gt 0 && "${restored%.*}" == 0 ]] \
  || fail "small-blob cache: skipped=$skipped hits=$hits held=$held restored=$restored"

# An archive output from the farm: all hits, the farm's digests, its SBOM
# inside (skopeo reads the images by ref from the one file).
"$PBRX" build-images --farm "$FARM" --output "oci-archive:$T/farm.oci.tar" --find-links "$T/links" \
  "$T/hello" >"$T/archive.out" 2>"$T/archive.err" || { cat "$T/archive.err"; fail "farm build into an oci-archive"; }
grep -q "steps: [0-9]* cached, 0 run" "$T/archive.err" || fail "the archive build ran steps: $(cat "$T/archive.err")"
want=$(awk '$1 == "hello-pbrx:latest" {print $2}' "$T/farm.out")
got=$(skopeo inspect "oci-archive:$T/farm.oci.tar:hello-pbrx:latest" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
[[ -n "$want" && "$got" == "$want" ]] || fail "the farm's oci-archive holds $got for hello-pbrx:latest, want $want"
mkdir -p "$T/unpacked" && tar -xf "$T/farm.oci.tar" -C "$T/unpacked"
python3 "$REPO/tests/attestation_check.py" "$T/unpacked" hello-pbrx:latest --pypi hello-pbrx \
  --builder urn:pbrx:builder:farm >/dev/null || fail "the archive lacks the attestations"

"$PBRX" farm status --farm "$FARM" >"$T/status.out" || fail "farm status"
cat "$T/status.out"
grep -qE "(^| )2 executor\(s\)" "$T/status.out" || fail "status does not show 2 executors"
grep -qE "^  e1 " "$T/status.out" || fail "status does not list e1"
"$PBRX" farm status --farm "$FARM" --json >"$T/status.json" || fail "farm status --json"
python3 - "$T/status.json" <<'PY' || fail "farm status --json content"
import json, sys
st = json.load(open(sys.argv[1]))
assert sorted(e["name"] for e in st["executors"]) == ["e1", "e2"], st
assert all(e["slots"] == 2 for e in st["executors"]), st
assert st["schema"] == "pbrx.farm-status/v1", st
assert st["steps"]["cache_hits"] > 0 and st["queued"] == 0 and st["running"] == 0, st
assert all(e["busy"] == 0 and e["connected_seconds"] >= 0 for e in st["executors"]), st
PY

# Monitoring. What the executors say they ran is what the coordinator
# leased: each lease that ended with a result is one executor action that
# ran its command (the outcomes partition the actions; no retries here).
scrape_sum() {  # scrape_sum ADDR... -- REGEX: the sum of matching samples
  local addrs=() a
  while [[ "$1" != -- ]]; do addrs+=("$1"); shift; done
  for a in "${addrs[@]}"; do curl -sf --noproxy '*' "http://$a/metrics"; done \
    | awk -v re="$2" '$0 ~ re {n += $NF} END {printf "%d\n", n}'
}
ran=$(scrape_sum "$E1_METRICS" "$E2_METRICS" -- '^pbrx_executor_actions_total\{outcome="(succeeded|exit_nonzero|limit_killed)"\}')
leased=$(scrape_sum "$METRICS_ADDR" -- '^pbrx_coordinator_attempts_total\{.*result="succeeded"\}')
executed=$(scrape_sum "$METRICS_ADDR" -- '^pbrx_coordinator_steps_total\{.*outcome="executed"\}')
echo "executors ran $ran actions; the coordinator leased $leased and counts $executed executed steps"
[[ "$ran" -gt 0 && "$ran" == "$leased" && "$leased" == "$executed" ]] || fail "executor and coordinator metrics disagree"
[[ $(scrape_sum "$E1_METRICS" "$E2_METRICS" -- '^pbrx_executor_actions_total\{outcome="(error|cancelled)"\}') == 0 ]] || fail "executor actions failed"
[[ $(scrape_sum "$E1_METRICS" "$E2_METRICS" -- '^pbrx_executor_layer_cache_requests_total\{result="hit"\}') -gt 0 ]] || fail "no layer cache hit on the executors"
[[ $(scrape_sum "$E1_METRICS" "$E2_METRICS" -- '^pbrx_executor_phase_duration_seconds_count\{phase="run"\}') == "$ran" ]] || fail "not every run timed"
[[ $(scrape_sum "$E1_METRICS" "$E2_METRICS" -- '^pbrx_executor_slots_busy ') == 0 ]] || fail "busy slots after the builds"
for a in "$CACHE_METRICS" "$METRICS_ADDR" "$E1_METRICS" "$E2_METRICS"; do
  # (Into a variable first: grep -q stopping early would fail curl under pipefail.)
  scraped=$(curl -sf --noproxy '*' "http://$a/metrics") || fail "no metrics from $a"
  grep -q '^pbrx_build_info{version="[0-9.]*"} 1$' <<<"$scraped" || fail "no pbrx_build_info on $a"
  [[ $(scrape_sum "$a" -- '^process_resident_memory_bytes ') -gt 1000000 ]] || fail "no process metrics on $a"
done
# A real Prometheus with deploy/prometheus's rules scrapes the four
# daemons: every metric the rules and the Grafana dashboard name exists,
# every panel shows data, no alert fires.
cat >"$T/prom.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$REPO/deploy/prometheus/pbrx-rules.yml"]
scrape_configs:
  - job_name: pbrx-cache
    static_configs: [{targets: ["$CACHE_METRICS"]}]
  - job_name: pbrx-coordinator
    static_configs: [{targets: ["$METRICS_ADDR"]}]
  - job_name: pbrx-executor
    static_configs: [{targets: ["$E1_METRICS", "$E2_METRICS"]}]
YML
PROM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$T/prom.log" 2>&1 &
PROM_PID=$!
trap 'kill "$PROM_PID" 2>/dev/null || true; stop_farm; [[ -n "$CACHE_PID" ]] && kill "$CACHE_PID" 2>/dev/null; true' EXIT
for _ in $(seq 1 300); do curl -sf --noproxy '*' "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null && break; sleep 0.1; done
python3 "$REPO/tests/monitoring_check.py" "http://127.0.0.1:$PROM_PORT" "$REPO/deploy/prometheus/pbrx-rules.yml" \
  "$REPO/deploy/grafana/pbrx-farm.json" 4 || { tail -n 20 "$T/prom.log"; fail "monitoring check"; }
kill $PROM_PID

# Unreachable farm: one clear line, exit 3.
set +e
"$PBRX" build-images --farm grpc://127.0.0.1:1 --output "oci:$T/x" "$T/hello" >/dev/null 2>"$T/down.err"
rc=$?
set -e
[[ $rc == 3 ]] || fail "unreachable farm: want exit 3, got $rc"
[[ $(wc -l <"$T/down.err") == 1 ]] && grep -q "cannot reach the farm at grpc://127.0.0.1:1" "$T/down.err" \
  || { cat "$T/down.err"; fail "unreachable farm message"; }
echo PASS
