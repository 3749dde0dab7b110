#!/usr/bin/env bash
# The coordinator's status page (--http-listen) in headless Chromium while a
# farm build runs: the DOM shows the executor with its slots and the action
# it runs, the build in flight with its projects and their progress, the
# queue and the summary; a screenshot is taken. After the build, the failed
# project is among the last failures with its step's log tail, escaped (its
# directory name holds markup), and nothing is in flight. The page answers
# GET and HEAD only, and its JSON twin has the same data.
set -euo pipefail
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
source "$REPO/tests/farm_lib.sh"
CACHE_PID="" BUILD_PID=""
cleanup() {
  [[ -n "$BUILD_PID" ]] && kill "$BUILD_PID" 2>/dev/null
  stop_farm
  [[ -n "$CACHE_PID" ]] && kill "$CACHE_PID" 2>/dev/null
  true
}
trap cleanup EXIT

# A project that builds (new content: its steps run) and one whose wheel
# build fails with a marker in its log; its directory name is markup.
write_pyproject "$T/good" pagedemo
mkdir -p "$T/good/pagedemo"
printf 'def main():\n    print("pagedemo %s")\n' "$(date +%s%N)-$$" >"$T/good/pagedemo/__init__.py"
BAD="$T/<b>bad</b>"
write_pyproject "$BAD" pagebroken
printf 'raise SystemExit("pbrx-status-page-marker: this setup.py fails <on purpose>")\n' >"$BAD/setup.py"

seeded_cache "$T/cache"
launch_cache "$T/cache/db"
start_coordinator "$CACHE_ADDR" --metrics-listen=127.0.0.1:0 --http-listen=127.0.0.1:0
PAGE=$(grep -o 'status page on http://[^/]*' "$T/coord.err" | head -n1 | sed 's|status page on http://||')
[[ -n "$PAGE" ]] || { cat "$T/coord.err"; fail "the coordinator names no status page address"; }
start_executor e1 "$COORD_ADDR" "$CACHE_ADDR" --slots=1
wait_executors 1

chrome() {  # chrome ARGS... URL: headless Chromium as the probe runs it
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T/chrome" "$@" 2>>"$T/chrome.log"
}
json() { curl -sf --noproxy '*' "http://$PAGE/status.json"; }

"$PBRX" build-images --farm "grpc://$COORD_ADDR" --output "oci:$T/out" --progress=plain \
  "$T/good" "$BAD" >"$T/build.out" 2>"$T/build.err" &
BUILD_PID=$!
# While it runs: a project is running a step on e1.
running=""
for _ in $(seq 1 600); do
  running=$(json | python3 -c '
import json, sys
s = json.load(sys.stdin)
busy = [a for e in s["executors"] for a in e["running"]]
projects = [p for b in s["builds"] for p in b["projects"] if p["state"] == "running"]
print("yes" if busy and projects else "")' 2>/dev/null || true)
  [[ -n "$running" ]] && break
  kill -0 "$BUILD_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$running" ]] || { cat "$T/build.err"; fail "never saw the build running on the status page"; }
chrome --dump-dom "http://$PAGE/" >"$T/during.html"
chrome --screenshot="$T/page.png" --window-size=1280,900 "http://$PAGE/" >/dev/null
python3 - "$T/during.html" "$T/page.png" "$BAD" <<'PY' || fail "the status page during the build"
import html.parser, struct, sys
dom = open(sys.argv[1]).read()
class Rows(html.parser.HTMLParser):
    """Table rows by table id, as lists of cell texts; ids of <b> values."""
    def __init__(self):
        super().__init__(); self.tables = {}; self.table = None; self.row = None
        self.cell = None; self.ids = {}; self.bid = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table": self.table = a.get("id"); self.tables[self.table] = []
        elif tag == "tr": self.row = []
        elif tag in ("td", "th"): self.cell = ""
        elif tag == "b": self.bid = a.get("id"); self.ids[self.bid] = ""
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None: self.row.append(self.cell.strip()); self.cell = None
        elif tag == "tr" and self.table: self.tables[self.table].append(self.row); self.row = None
        elif tag == "b": self.bid = None
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
        if self.bid: self.ids[self.bid] += d
p = Rows(); p.feed(dom)
ex = p.tables["executor-table"]
assert ex[0] == ["name", "peer", "slots", "running", "up"], ex
assert ex[1][0] == "e1" and ex[1][2] == "1/1" and "for" in ex[1][3], ex
assert p.ids["executors"] == "1" and p.ids["slots"] == "1/1", p.ids
builds = p.tables["build-table"]
cells = [c for row in builds[1:] for c in row]
assert any(c.endswith("/good") for c in cells), builds
assert any(c.startswith("running: ") for c in cells), builds
assert sys.argv[3] in cells, builds   # the markup-named dir, as text
assert "<b>bad</b>" not in dom.replace("&lt;b&gt;bad&lt;/b&gt;", ""), "unescaped markup"
png = open(sys.argv[2], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", png[16:24])
assert (w, h) == (1280, 900) and len(png) > 20000, (w, h, len(png))
PY
wait "$BUILD_PID" && rc=0 || rc=$?
BUILD_PID=""
[[ $rc == 1 ]] || { cat "$T/build.err"; fail "want exit 1 (one project fails), got $rc"; }
# The plain progress lines of the CI log: timestamped steps with durations.
grep -qE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} .*/good: project-wheel pagedemo: started$' "$T/build.err" \
  || { cat "$T/build.err"; fail "no plain 'started' line"; }
grep -qE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} .*/good: project-wheel pagedemo: done in [0-9]+\.[0-9]{2}s$' "$T/build.err" \
  || { cat "$T/build.err"; fail "no plain 'done in' line"; }
grep -qE 'bad</b>: project-wheel pagebroken: FAILED in ' "$T/build.err" || { cat "$T/build.err"; fail "no plain FAILED line"; }
grep -qE '/good: pagedemo 1\.0: 2 image\(s\), [0-9]+ step\(s\) cached, [1-9][0-9]* run$' "$T/build.err" \
  || { cat "$T/build.err"; fail "no plain project line with its step counts"; }

chrome --dump-dom "http://$PAGE/" >"$T/after.html"
python3 - "$T/after.html" <<'PY' || fail "the status page after the build"
import sys
dom = open(sys.argv[1]).read()
builds = dom[dom.index('id="build-table"'):dom.index('id="failure-table"')]
assert ">none<" in builds, builds
failures = dom[dom.index('id="failure-table"'):]
assert "&lt;b&gt;bad&lt;/b&gt;" in failures, failures
assert "pbrx-status-page-marker: this setup.py fails &lt;on purpose&gt;" in failures, failures
PY
# GET and HEAD only; nothing else is served.
[[ $(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -X POST "http://$PAGE/") == 405 ]] || fail "POST is not 405"
[[ $(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "http://$PAGE/etc/passwd") == 404 ]] || fail "an unknown path is not 404"
headers=$(curl -sfI --noproxy '*' "http://$PAGE/") || fail "HEAD /"
grep -qi "^content-security-policy: default-src 'none'" <<<"$headers" || fail "no CSP header"
json | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["schema"] == "pbrx.farm-status/v1" and s["builds"] == [], s
assert s["version"] and s["time"].endswith("Z"), s
assert [e["name"] for e in s["executors"]] == ["e1"], s
assert s["failures"] and "pbrx-status-page-marker" in s["failures"][0]["message"], s
assert s["steps"]["executed"] > 0 and 0 <= s["steps"]["cache_hit_ratio"] <= 1, s["steps"]
' || fail "status.json"
echo PASS
