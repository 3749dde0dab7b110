#include "common/step_tool.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace pbrx::common {

bool IsStepToolInvocation(int argc, char** argv) {
  return argc >= 2 && std::strcmp(argv[1], kStepToolMarker) == 0;
}

std::vector<std::string> InstallWheelsArgv(const InstallWheelsArgs& a) {
  std::vector<std::string> argv = {kStepToolPath,
                                   kStepToolMarker,
                                   "install-wheels",
                                   "--python=" + a.python,
                                   "--purelib=" + a.purelib,
                                   "--platlib=" + a.platlib,
                                   "--scripts=" + a.scripts,
                                   "--data=" + a.data,
                                   "--include=" + a.include,
                                   absl::StrCat("--mtime=", a.mtime),
                                   "--out=" + a.out_dir,
                                   "--"};
  argv.insert(argv.end(), a.wheels.begin(), a.wheels.end());
  return argv;
}

std::vector<std::string> OciBaseArgv(const OciBaseArgs& a) {
  return {kStepToolPath,  kStepToolMarker,
          kOciBaseTool,   "--ref=" + a.ref,
          "--os=" + a.os, "--architecture=" + a.architecture};
}

}  // namespace pbrx::common
