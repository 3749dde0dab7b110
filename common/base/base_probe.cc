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

}  // namespace pbrx::common::base
