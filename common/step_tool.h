// Step tools: steps whose program is pbrx's own code rather than the base
// image's: `install-wheels` (common/wheel/python_layer.h) puts wheels into a
// Python layer; `debian-base` (common/base/debian_base.h) builds the Debian
// base with mmdebstrap; `oci-base` verifies an imported base's layout. An
// Action asks for the tools with the platform property tools=kStepToolsVersion;
// an executor that offers them binds its own binary read-only at kStepToolPath
// into that step's sandbox (no rootfs: the host's /usr gives the libraries),
// and the binary's main hands
//   kStepToolPath kStepToolMarker TOOL ARG...
// to RunStepTool (common/step_tool_runner.h) before anything else. So hostile
// wheels are unpacked in a sandbox on an executor, never in the coordinator,
// and embedded mode and the farm run the same code under the same Action key.
#ifndef PBRX_COMMON_STEP_TOOL_H_
#define PBRX_COMMON_STEP_TOOL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace pbrx::common {

inline constexpr char kStepToolsProperty[] = "tools";
// Part of every tool step's Action key: bump it when a tool's output for the
// same inputs changes.
inline constexpr char kStepToolsVersion[] = "pbrx-1";
inline constexpr char kStepToolPath[] = "/.pbrx/step-tool";
inline constexpr char kStepToolMarker[] = "__pbrx_step_tool";
// The debian-base tool also needs mmdebstrap on the executor, network
// egress, and chroot inside its sandbox: its Action asks for this property
// too, and only executors that have mmdebstrap offer it.
inline constexpr char kDebianBaseProperty[] = "debian-base";
inline constexpr char kDebianBaseBuilder[] = "mmdebstrap";
inline constexpr char kDebianBaseTool[] = "debian-base";

// The oci-base tool verifies a base image's OCI layout (the step's input
// root: every digest, blob and diff_id, the platform picked from an index,
// common/oci/layout_reader.h) and writes what it found to
// common/oci/verified_image.h's kVerifiedImageFile. A step, so the farm's
// coordinator never reads a base's layers, and a layout verified once is an
// Action Cache hit after.
inline constexpr char kOciBaseTool[] = "oci-base";
struct OciBaseArgs {
  std::string ref;  // "" when the layout holds one image
  std::string os = "linux";
  std::string architecture = "amd64";
};
std::vector<std::string> OciBaseArgv(const OciBaseArgs& args);

// Whether a main's arguments are a step tool's (argv[1] is the marker).
bool IsStepToolInvocation(int argc, char** argv);

// The arguments of an install-wheels step after kStepToolMarker.
struct InstallWheelsArgs {
  std::string python, purelib, platlib, scripts, data, include;
  int64_t mtime = 0;
  std::string out_dir = ".";  // layer.tar.gz and layer.diff_id go here
  std::vector<std::string> wheels;
};
std::vector<std::string> InstallWheelsArgv(const InstallWheelsArgs& args);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_STEP_TOOL_H_
