#include "common/base/base_probe.h"

namespace pbrx::common::base {

const char kBaseProbeScript[] = R"PY(
import json, platform, sys, sysconfig
info = {"os_release": {}}
try:
    for line in open("/etc/os-release"):
        k, _, v = line.strip().partition("=")
        if k:
            info["os_release"][k] = v.strip('"')
except OSError:
    pass
info["python"] = sys.executable
info["python_version"] = platform.python_version()
info["paths"] = sysconfig.get_paths()
try:
    from pip._vendor.packaging import tags
    info["wheel_tags"] = [str(t) for t in tags.sys_tags()]
except Exception as e:
    info["wheel_tags"] = []
    info["wheel_tags_error"] = repr(e)
json.dump(info, open("probe.json", "w"), indent=1, sort_keys=True)
)PY";

const char kPackagesProbeScript[] = R"PY(
import json
out = {"manager": "", "os_release": {}, "packages": []}
try:
    for line in open("/etc/os-release", encoding="utf-8", errors="replace"):
        k, _, v = line.strip().partition("=")
        if k in ("ID", "VERSION_ID", "VERSION_CODENAME"):
            out["os_release"][k] = v.strip('"')
except OSError:
    pass
def stanzas(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().split("\n\n")
try:
    blocks = stanzas("/var/lib/dpkg/status")
    out["manager"] = "dpkg"
    for block in blocks:
        f = {}
        for line in block.split("\n"):
            if line[:1] in (" ", "\t") or ":" not in line:
                continue
            k, _, v = line.partition(":")
            f.setdefault(k, v.strip())
        status = f.get("Status", "").split()
        if f.get("Package") and status[-1:] == ["installed"]:
            out["packages"].append({
                "name": f["Package"], "version": f.get("Version", ""),
                "arch": f.get("Architecture", ""),
                "source": f.get("Source", "").split(" ")[0]})
except FileNotFoundError:
    try:
        blocks = stanzas("/lib/apk/db/installed")
        out["manager"] = "apk"
        for block in blocks:
            f = {}
            for line in block.split("\n"):
                if len(line) > 2 and line[1] == ":":
                    f.setdefault(line[0], line[2:])
            if f.get("P"):
                out["packages"].append({
                    "name": f["P"], "version": f.get("V", ""),
                    "arch": f.get("A", ""), "source": f.get("o", "")})
    except FileNotFoundError:
        pass
out["packages"].sort(key=lambda p: (p["name"], p["arch"], p["version"]))
with open("packages.json", "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
)PY";

}  // namespace pbrx::common::base
