#!/usr/bin/env bash
# Benchmark: fan-out of N projects (default 20) that share two sdists, on a
# farm with 1 executor vs 3 executors (all on this machine, 1 slot each),
# plus embedded mode (--jobs 1 and --jobs 3) as the baseline, each from the
# same warm cache (Debian base and builder layer present; every project
# step, resolution and wheel build cold). Prints wall time, steps run and,
# for the farm, the blob bytes moved per project: between the client and
# the coordinator (its proxied CAS), and to and from the cache (the
# coordinator's and the executors' reads and writes).
#   bazel run -c opt //tools/bench:farm_fanout_bench [-- N [WORK_DIR]]
# Needs root (executors: bubblewrap, overlay mounts).
set -euo pipefail
RUNFILES="${RUNFILES_DIR:-$0.runfiles}/pbrx"
PBRX="$RUNFILES/client/pbrx"
CACHE_BIN="$RUNFILES/cache/pbrx-cache"
COORD_BIN="$RUNFILES/coordinator/pbrx-coordinator"
EXEC_BIN="$RUNFILES/executor/pbrx-executor"
n="${1:-20}"
work="${2:-/tmp/pbrx-fanout-bench}"
rm -rf "$work" && mkdir -p "$work"
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
trap stop_all EXIT
wait_line() { for _ in $(seq 1 300); do [[ -s "$1" ]] && { head -n1 "$1"; return; }; sleep 0.1; done; echo "no line in $1" >&2; exit 1; }

# Fixtures: two shared sdists (one with a C-free 2 s build), N projects.
mkdir -p "$work/links" "$work/sd"
for spec in "pbrxshared 1.0 0" "pbrxslow 1.0 2"; do
  set -- $spec
  mkdir -p "$work/sd/$1-$2"
  printf 'import sys, time\nfrom setuptools import setup\nif "bdist_wheel" in sys.argv:\n    time.sleep(%s)\nsetup(name="%s", version="%s", py_modules=["%s"])\n' "$3" "$1" "$2" "$1" >"$work/sd/$1-$2/setup.py"
  echo "VALUE = 1" >"$work/sd/$1-$2/$1.py"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/sd" -cf - "$1-$2" | gzip -n >"$work/links/$1-$2.tar.gz"
done
projects=()
for i in $(seq 1 "$n"); do
  p="$work/projects/fan$i"
  mkdir -p "$p/fan$i"
  printf '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n[project]\nname = "fan%s"\nversion = "1.0"\ndependencies = ["pbrxshared", "pbrxslow"]\n[project.scripts]\nfan%s = "fan%s.cli:main"\n' "$i" "$i" "$i" >"$p/pyproject.toml"
  printf 'def main():\n    print("fan%s")\n' "$i" >"$p/fan$i/cli.py"
  : >"$p/fan$i/__init__.py"
  projects+=("$p")
done

# The warm cache: the base and the builder layer, from a project without
# dependencies (so no shared wheel is built yet).
mkdir -p "$work/warmup/warmup"
printf '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n[project]\nname = "warmup"\nversion = "1.0"\n' >"$work/warmup/pyproject.toml"
: >"$work/warmup/warmup/__init__.py"
"$PBRX" build-images --cache-dir "$work/warm" --output "oci:$work/warm-out" "$work/warmup" \
  >/dev/null 2>"$work/warm.err" || { cat "$work/warm.err"; exit 1; }

metric_sum() {  # metric_sum URL NAME: the value of an unlabelled counter
  curl -sf --noproxy '*' "$1" | awk -v n="$2" '$1 == n {printf "%.0f\n", $2}'
}
run_farm() {  # run_farm EXECUTORS -> "seconds run joined wheel_builds client_bytes cache_bytes"
  local ex="$1" dir="$work/farm$1"
  rm -rf "$dir" && mkdir -p "$dir" && cp -a "$work/warm/db" "$dir/db"
  local cport; cport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$CACHE_BIN" --listen=127.0.0.1:0 --data-dir="$dir/db" --quiet --metrics-listen="127.0.0.1:$cport" \
    >"$dir/cache.out" 2>/dev/null & PIDS+=($!)
  local cache; cache=$(wait_line "$dir/cache.out")
  local mport; mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$COORD_BIN" --listen=127.0.0.1:0 --cache="grpc://$cache" --quiet \
    --metrics-listen="127.0.0.1:$mport" >"$dir/coord.out" 2>/dev/null & PIDS+=($!)
  local coord; coord=$(wait_line "$dir/coord.out")
  for e in $(seq 1 "$ex"); do
    "$EXEC_BIN" --name="b$e" --slots=1 --coordinator="grpc://$coord" --cache="grpc://$cache" \
      --work-dir="$dir/exec$e" --quiet >/dev/null 2>&1 & PIDS+=($!)
  done
  for _ in $(seq 1 300); do
    [[ "$(curl -sf "http://127.0.0.1:$mport/metrics" | awk '/^pbrx_coordinator_executors_connected / {print int($2)}')" == "$ex" ]] && break
    sleep 0.1
  done
  local start end
  start=$(date +%s.%N)
  "$PBRX" build-images --farm "grpc://$coord" --output "oci:$dir/out" --find-links "$work/links" --json \
    "${projects[@]}" >"$dir/report.json" 2>"$dir/err" || { cat "$dir/err"; exit 1; }
  end=$(date +%s.%N)
  local wheels client cache_bytes
  wheels=$(curl -sf "http://127.0.0.1:$mport/metrics" | awk '/^pbrx_coordinator_steps_total\{kind="wheel-build",outcome="executed"\}/ {print int($2)}')
  client=$(( $(metric_sum "http://127.0.0.1:$mport/metrics" pbrx_coordinator_cache_read_bytes_total) + \
             $(metric_sum "http://127.0.0.1:$mport/metrics" pbrx_coordinator_cache_written_bytes_total) ))
  cache_bytes=$(( $(metric_sum "http://127.0.0.1:$cport/metrics" pbrx_cache_read_bytes_total) + \
                  $(metric_sum "http://127.0.0.1:$cport/metrics" pbrx_cache_written_bytes_total) ))
  echo "$(echo "$end - $start" | bc) $(steps_run "$dir/report.json") ${wheels:-0} $((client / n)) $((cache_bytes / n))"
  stop_all
}
run_embedded() {  # run_embedded JOBS
  local dir="$work/emb$1"
  rm -rf "$dir" && mkdir -p "$dir" && cp -a "$work/warm" "$dir/cache"
  local start end
  start=$(date +%s.%N)
  "$PBRX" build-images --cache-dir "$dir/cache" --jobs "$1" --output "oci:$dir/out" --find-links "$work/links" \
    --json "${projects[@]}" >"$dir/report.json" 2>"$dir/err" || { cat "$dir/err"; exit 1; }
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $(steps_run "$dir/report.json") - - -"
}
steps_run() {  # "RUN JOINED": steps run, and steps joined to another project's run
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); st=[s for p in r["projects"] for s in p["steps"] if s["kind"] != "image-assembly"]; print(sum(1 for s in st if not s["cached"] and not s.get("joined")), sum(1 for s in st if s.get("joined")))' "$1"
}

printf '| %-28s | %8s | %9s | %6s | %12s | %22s | %21s |\n| --- | --- | --- | --- | --- | --- | --- |\n' "run ($n projects)" "wall s" "steps run" "joined" "wheel builds" "client<->coord B/proj" "cache in+out B/proj"
for label in "embedded --jobs 1:emb 1" "embedded --jobs 3:emb 3" "farm, 1 executor:farm 1" "farm, 3 executors:farm 3"; do
  name="${label%%:*}"; spec="${label#*:}"
  set -- $spec
  if [[ "$1" == emb ]]; then r=$(run_embedded "$2"); else r=$(run_farm "$2"); fi
  set -- $r
  printf '| %-28s | %8.1f | %9s | %6s | %12s | %22s | %21s |\n' "$name" "$1" "$2" "$3" "$4" "$5" "$6"
done
