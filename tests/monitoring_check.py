"""Checks deploy/ monitoring against a real Prometheus that scrapes a farm.

usage: monitoring_check.py PROMETHEUS_URL RULES_YML DASHBOARD_JSON TARGETS

Waits until TARGETS scrape targets are up and every recording rule has a
value, then asserts:
  - every metric the rules and the dashboard name is exported by a daemon
    (or is a recording rule of RULES_YML, or Prometheus' own `up`);
  - every dashboard query is valid PromQL, and every panel shows data;
  - no alert fires on this healthy farm.
Exits 1 with the offending expression named.
"""
import json
import re
import sys
import time
import urllib.parse
import urllib.request

prom, rules_path, dashboard_path, targets = sys.argv[1:5]
targets = int(targets)


def api(path, **params):
    url = f"{prom}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{path} {params}: {body}")
    return body["data"]


def query(expr):
    try:
        return api("query", query=expr)["result"]
    except urllib.error.HTTPError as e:
        sys.exit(f"invalid PromQL {expr!r}: {e.read().decode()}")


rules_text = open(rules_path).read()
recorded = set(re.findall(r"^\s*- record: (\S+)", rules_text, re.M))
exprs = []  # (where, expr)
for m in re.finditer(r"^\s*expr: (>\n(?:\s{10,}.*\n)+|.*)", rules_text, re.M):
    e = m.group(1)
    if e.startswith(">"):
        e = " ".join(l.strip() for l in e.splitlines()[1:])
    exprs.append(("rules", e.strip()))
dashboard = json.load(open(dashboard_path))
panels = dashboard["panels"]
for p in panels:
    for t in p["targets"]:
        exprs.append((f"panel {p['title']!r}", t["expr"]))

deadline = time.time() + 60
while True:
    up = query("up")
    ready = len(up) == targets and all(r["value"][1] == "1" for r in up)
    ready = ready and all(query(r) for r in recorded)
    if ready:
        break
    if time.time() > deadline:
        sys.exit(f"not ready after 60 s: up={up}, recorded without value: "
                 f"{[r for r in recorded if not query(r)]}")
    time.sleep(0.5)

exported = set(api("label/__name__/values"))
for name in api("metadata"):
    exported.add(name)
known = exported | recorded | {"up"}
words = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
promql = {"sum", "by", "rate", "increase", "histogram_quantile", "on", "and",
          "or", "le", "vector", "without", "humanizePercentage"}
for where, e in exprs:
    # Metric names: identifiers outside {...} and outside strings, that
    # are not functions, keywords or label names after by/on.
    bare = re.sub(r"\{[^}]*\}", "", e)
    bare = re.sub(r"\b(by|on|without)\s*\([^)]*\)", "", bare)
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    for w in words.findall(bare):
        if w in promql or re.fullmatch(r"[0-9.e]+", w):
            continue
        base = re.sub(r"_(bucket|sum|count)$", "", w)
        if w not in known and base not in known:
            sys.exit(f"{where}: {w!r} in {e!r} is exported by no daemon "
                     f"(known: {sorted(known)})")

for p in panels:
    shown = [t["expr"] for t in p["targets"] if query(t["expr"])]
    if not shown:
        sys.exit(f"panel {p['title']!r} shows no data: "
                 f"{[t['expr'] for t in p['targets']]}")
    print(f"panel {p['title']!r}: {len(shown)}/{len(p['targets'])} queries "
          "with data")

firing = [a for a in api("alerts")["alerts"] if a["state"] == "firing"]
if firing:
    sys.exit(f"alerts fire on a healthy farm: {firing}")
print(f"monitoring: {len(exprs)} expressions, {len(panels)} panels, "
      f"{len(recorded)} recording rules checked")
