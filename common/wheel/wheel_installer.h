// A native wheel installer (PEP 427, binary distribution format 1.x), the
// way pip installs a wheel, without running Python:
//   - files at the wheel's root go to purelib or platlib (Root-Is-Purelib);
//   - "{name}-{version}.data/{purelib,platlib,headers,scripts,data}/" go to
//     the scheme's directories; scripts starting with "#!python" get the
//     scheme's interpreter, and every script is made executable;
//   - console_scripts and gui_scripts entry points get wrapper scripts;
//   - every file is checked against the wheel's RECORD (sha256 and size);
//     files missing from RECORD, or RECORD entries missing from the wheel,
//     are refused;
//   - INSTALLER ("pbrx") and a new RECORD (paths relative to the
//     purelib/platlib directory holding the .dist-info) are written.
// Everything is written below a staging root (the layer being built); the
// scheme's paths are the paths inside the image. Paths that are absolute,
// contain "..", or are symlinks are refused, so nothing escapes the root.
// Byte-compilation (.pyc) is a separate step run with the base's Python.
#ifndef PBRX_COMMON_WHEEL_WHEEL_INSTALLER_H_
#define PBRX_COMMON_WHEEL_WHEEL_INSTALLER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pbrx::common::wheel {

struct InstallScheme {
  std::string purelib;  // e.g. /usr/local/lib/python3.11/dist-packages
  std::string platlib;
  std::string headers;  // e.g. /usr/local/include/python3.11/{dist}
  std::string scripts;  // e.g. /usr/local/bin
  std::string data;     // e.g. /usr/local
  std::string python;   // interpreter for shebangs, e.g. /usr/bin/python3
};

struct InstalledWheel {
  std::string name;  // from the .dist-info directory
  std::string version;
  std::vector<std::string> files;    // image paths written, sorted
  std::vector<std::string> scripts;  // generated entry-point wrappers
};

// Bounds on what one wheel may unpack to (a 4 GiB entry of zeros in a
// 4 MiB wheel). Entries stream through the hash into their files, so memory
// stays small whatever the sizes; these bound the disk.
struct WheelLimits {
  int64_t max_total_bytes = int64_t{4} << 30;  // all entries, uncompressed
  int64_t max_entry_bytes = int64_t{2} << 30;
  // Uncompressed total / wheel file size, checked past 64 MiB.
  int64_t max_ratio = 200;
};

// Installs `wheel_path` under `staging_root`. The scheme's paths (they come
// from a base image's probe) must be absolute and normalised, without
// control characters; entry points must be `name = module.path:attr.path`
// with Python identifiers. INVALID_ARGUMENT naming the offending entry,
// field or limit for a malformed or unsafe wheel; nothing is left half
// installed by the caller's layer because the caller discards the staging
// dir on error.
absl::StatusOr<InstalledWheel> InstallWheel(const std::string& wheel_path,
                                            const InstallScheme& scheme,
                                            const std::string& staging_root,
                                            const WheelLimits& limits = {});

// The console_scripts and gui_scripts of an entry_points.txt, each checked
// (common/project/python_names.h CheckEntryPoint): INVALID_ARGUMENT naming
// the first bad line.
struct ScriptEntryPoint {
  std::string group;  // "console_scripts" or "gui_scripts"
  std::string name, target;
};
absl::StatusOr<std::vector<ScriptEntryPoint>> ParseScriptEntryPoints(
    absl::string_view text);

// The wrapper pip writes for an entry point "module:attr.path".
std::string EntryPointWrapper(const std::string& python,
                              const std::string& module,
                              const std::string& attr);

// RECORD's hash form: "sha256=" + urlsafe base64 without padding.
std::string RecordHash(absl::string_view content);

}  // namespace pbrx::common::wheel

#endif  // PBRX_COMMON_WHEEL_WHEEL_INSTALLER_H_
