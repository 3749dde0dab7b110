#!/usr/bin/env bash
# --mirror and debian: bases keyed by the archive's state, against a Debian
# mirror on another "host": a network namespace behind a veth pair, which
# steps reach the way they reach the outside, serving a proxy to
# deb.debian.org that tells pbrx's own requests from apt's
# (tests/mirror_proxy.py).
#   - the base is built from the mirror (its sources.list names it; the key
#     holds the mirror and the archive's state) and the client fetched the
#     suite's InRelease once;
#   - an unchanged archive: a second build is all hits and apt is not asked;
#   - a point release (the Packages index the InRelease pbrx sees lists changes): the base step runs
#     again (the mirror refuses apt here, so it fails fast, naming the step);
#     the archive as before: all hits again;
#   - the mirror unreachable: the last known state, a warning, all hits;
#   - an imported base (oci:): its apt steps read the mirror's sources (a
#     second mirror gets apt's requests, the base's own sources none);
#   - bad --mirror values: exit 2 naming the rule, a password never printed.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start_other_host
"$REPO/tests/mirror_proxy.py" "$OTHER_NS" "$OTHER_IP" "$T/mirror.port" 2>"$T/mirror.log" &
PIDS+=($!)
for _ in $(seq 1 100); do [[ -s "$T/mirror.port" ]] && break; sleep 0.1; done
[[ -s "$T/mirror.port" ]] || { cat "$T/mirror.log"; fail "the mirror did not start"; }
M="http://$OTHER_IP:$(cat "$T/mirror.port")/debian"
mirror() {  # mirror stats | mirror mode JSON
  if [[ $1 == mode ]]; then curl -sf -X POST --data "$2" "http://$OTHER_IP:$(cat "$T/mirror.port")/_mirror/mode" >/dev/null
  else curl -sf "http://$OTHER_IP:$(cat "$T/mirror.port")/_mirror/stats"; fi
}
stat() { mirror stats | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

RUN="$(date +%s%N)-$$"
write_pyproject "$T/mirrordemo" mirrordemo
mkdir -p "$T/mirrordemo/mirrordemo"
printf 'def main():\n    print("hello")\n' >"$T/mirrordemo/mirrordemo/__init__.py"
build() {  # build NAME [FLAGS...]: exit code in rc; $T/NAME.{json,err}
  rc=0
  "$PBRX" build-images --cache-dir "$T/cache" --output "oci:$T/out" --json "${@:2}" "$T/mirrordemo" \
    >"$T/$1.json" 2>"$T/$1.err" || rc=$?
}
# ran NAME: the kinds of the steps that ran (not cached) in NAME's report.
ran() {
  python3 -c 'import json,sys; print(" ".join(s["kind"] for p in json.load(open(sys.argv[1]))["projects"] for s in p["steps"] if not s["cached"] and s["kind"] != "image-assembly"))' "$T/$1.json"
}

# --- 1. the base from the mirror ------------------------------------------
build first --mirror "$M"
[[ $rc == 0 ]] || { cat "$T/first.err" "$T/mirror.log"; fail "build with --mirror: exit $rc"; }
[[ "$(stat pbrx_inrelease)" == 1 ]] || fail "the client fetched InRelease $(stat pbrx_inrelease) times: $(mirror stats)"
apt=$(stat apt_requests)
(( apt > 0 )) || fail "mmdebstrap did not use the mirror: $(mirror stats)"
python3 - "$T/first.json" "$T/out" "$M" <<'PY' || fail "the base of the first build"
import gzip, io, json, re, sys, tarfile
r = json.load(open(sys.argv[1]))["projects"][0]
base = [s for s in r["steps"] if s["kind"] == "base"][0]
argv = base["key_inputs"]["argv"]
assert f"--mirror={sys.argv[3]}" in argv, argv
assert any(re.fullmatch(r"--release=[0-9a-f]{64}", a) for a in argv), argv
layer = r["base"]["digest"][7:]
with tarfile.open(fileobj=io.BytesIO(gzip.decompress(open(f"{sys.argv[2]}/blobs/sha256/{layer}", "rb").read()))) as t:
    names = {m.name.lstrip("./"): m for m in t.getmembers()}
    src = t.extractfile(names["etc/apt/sources.list"]).read().decode()
assert f"{sys.argv[3]} bookworm main" in src, src
PY
release1=$(python3 -c 'import json,sys; print([a for s in json.load(open(sys.argv[1]))["projects"][0]["steps"] if s["kind"] == "base" for a in s["key_inputs"]["argv"] if a.startswith("--release=")][0])' "$T/first.json")
echo "built from $M ($apt apt requests), $release1"

# --- 2. the archive unchanged: all hits, apt not asked ---------------------
build again --mirror "$M"
[[ $rc == 0 ]] || { cat "$T/again.err"; fail "second build: exit $rc"; }
[[ -z "$(ran again)" ]] || fail "an unchanged archive ran steps: $(ran again)"
[[ "$(stat apt_requests)" == "$apt" ]] || fail "apt was asked again"
[[ "$(stat pbrx_inrelease)" == 2 ]] || fail "the client fetched InRelease $(stat pbrx_inrelease) times in two builds"

# --- 3. a point release: the base is made again ----------------------------
mirror mode '{"pbrx_point_release": true, "apt": "refuse"}'
build point --mirror "$M"
[[ $rc == 1 ]] || fail "a point release with apt refused: exit $rc"
grep -q "step base (debian:bookworm) failed" "$T/point.err" || fail "the base did not run again: $(cat "$T/point.err")"
(( $(stat apt_requests) > apt )) || fail "the new base did not ask the mirror"
mirror mode '{"pbrx_point_release": false, "apt": "ok"}'
apt=$(stat apt_requests)
build restored --mirror "$M"
[[ $rc == 0 && -z "$(ran restored)" ]] || fail "the archive as before: exit $rc, ran: $(ran restored)"
[[ "$(stat apt_requests)" == "$apt" ]] || fail "apt was asked for a cached base"

# --- 4. the mirror unreachable: the last known state ----------------------
mirror mode '{"pbrx": "drop"}'
build offline --mirror "$M"
[[ $rc == 0 && -z "$(ran offline)" ]] || { cat "$T/offline.err"; fail "offline: exit $rc, ran: $(ran offline)"; }
grep -q "^pbrx build-images: warning: cannot reach $M (.*); using the last known state of debian:bookworm (sha256:[0-9a-f]\{12\}...)$" "$T/offline.err" \
  || fail "no warning: $(cat "$T/offline.err")"
mirror mode '{"pbrx": "ok"}'
echo "unchanged: all hits; point release: base again; offline: last known state"

# --- 5. an imported base: its apt steps read the mirror's sources ----------
# The base is the first build's image (its sources.list names $M); with a
# second mirror M2 every apt step must go to M2 instead.
"$REPO/tests/mirror_proxy.py" "$OTHER_NS" "$OTHER_IP" "$T/mirror2.port" 2>"$T/mirror2.log" &
PIDS+=($!)
for _ in $(seq 1 100); do [[ -s "$T/mirror2.port" ]] && break; sleep 0.1; done
M2="http://$OTHER_IP:$(cat "$T/mirror2.port")/debian"
m2_apt() { curl -sf "http://$OTHER_IP:$(cat "$T/mirror2.port")/_mirror/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["apt_requests"])'; }
apt=$(stat apt_requests)
rc=0
"$PBRX" build-images --cache-dir "$T/cache" --output "oci:$T/out2" --json --base "oci:$T/out:mirrordemo-base:latest" \
  --mirror "$M2" "$T/mirrordemo" >"$T/imported.json" 2>"$T/imported.err" || rc=$?
[[ $rc == 0 ]] || { cat "$T/imported.err"; fail "an imported base with --mirror: exit $rc"; }
(( $(m2_apt) > 0 )) || fail "the apt steps of the imported base did not use --mirror $M2"
[[ "$(stat apt_requests)" == "$apt" ]] || fail "the imported base's own sources ($M) were used"
echo "imported base: apt steps from $M2 ($(m2_apt) requests), none from its own sources"

# --- 6. bad mirrors --------------------------------------------------------
usage() {  # usage MESSAGE FLAGS...: exit 2 with MESSAGE on stderr
  rc=0
  "$PBRX" build-images --cache-dir "$T/cache" --output "oci:$T/bad" "${@:2}" "$T/mirrordemo" >/dev/null 2>"$T/bad.err" || rc=$?
  [[ $rc == 2 ]] && grep -qF -- "$1" "$T/bad.err" || fail "${*:2}: exit $rc, $(cat "$T/bad.err")"
  ! grep -q "s3cret" "$T/bad.err" || fail "a password was printed: $(cat "$T/bad.err")"
}
usage "--mirror: mirror URL holds user:password@ (it would be part of a cache key)" --mirror "https://ci:s3cret@mirror.example/debian"
usage "--mirror: mirror 'ftp://mirror.example/debian' is not an http(s)://HOST[:PORT]/PATH URL" --mirror ftp://mirror.example/debian
[[ ! -e "$T/bad" ]] || fail "a refused build wrote a layout"
echo PASS
