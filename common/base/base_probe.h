// The base-probe step: the Python program it runs in a base image prints
// one JSON document (probe.json) with os-release, the interpreter, its
// install scheme and supported wheel tags. The pipeline plans from it.
#ifndef PBRX_COMMON_BASE_BASE_PROBE_H_
#define PBRX_COMMON_BASE_BASE_PROBE_H_

namespace pbrx::common::base {

extern const char kBaseProbeScript[];

// The packages-probe step: the Python program it runs in a rootfs writes
// packages.json: {"manager": "dpkg"|"apk"|"", "os_release": {ID,
// VERSION_ID, VERSION_CODENAME}, "packages": [{name, version, arch,
// source}]} from dpkg's status or apk's installed database, sorted.
extern const char kPackagesProbeScript[];

}  // namespace pbrx::common::base

#endif  // PBRX_COMMON_BASE_BASE_PROBE_H_
