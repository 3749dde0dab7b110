// The `pbrx` command-line interface. Subcommands dispatch to libraries; this
// file only parses argv and maps results to exit codes:
//   0 success, 1 the operation failed, 2 usage error.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/bindep_command.h"
#include "client/build_images_command.h"
#include "client/farm_client.h"
#include "client/plan_command.h"
#include "client/push_images_command.h"
#include "common/step_tool.h"
#include "common/step_tool_runner.h"
#include "common/version.h"

namespace {

constexpr char kUsage[] =
    R"(usage: pbrx [--help] COMMAND [ARGS...]

pbrx farm builds container images for Python projects: one {name}-base image
and one image per console_scripts entry point.

commands:
  build-images   build the images of Python projects into an OCI layout
                 (pbrx build-images --help)
  push-images    push the images build-images made to their registry
                 (pbrx push-images --help)
  bindep         check or list distro packages from bindep.txt, as bindep does
                 (pbrx bindep --help)
  plan           show the images and build steps for project directories
                 (pbrx plan --help)
  farm status    executors, queue and step counts of a farm
                 (--farm grpc://HOST:PORT or PBRX_FARM)
  version        print the pbrx version and exit
  help           show this help

build-images runs everything in this process (embedded mode), or on a farm
with --farm grpc://HOST:PORT (or PBRX_FARM): a pbrx-coordinator with
pbrx-executor daemons sharing a pbrx-cache.

exit codes: 0 success, 1 failure, 2 usage error, 3 the farm is unreachable
or failed
)";

int Usage(FILE* out, int code) {
  std::fputs(kUsage, out);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  // In embedded mode this binary is also the step tools' (a Python layer's
  // wheel installs run it inside a sandbox).
  if (pbrx::common::IsStepToolInvocation(argc, argv))
    return pbrx::common::RunStepTool(argc, argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage(stderr, 2);
  const std::string& cmd = args[0];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") return Usage(stdout, 0);
  if (cmd == "version" || cmd == "--version") {
    std::printf("pbrx %s\n", pbrx::kVersion);
    return 0;
  }
  if (cmd == "bindep") {
    pbrx::common::bindep::SubprocessRunner runner;
    pbrx::client::BindepCommandIo io;
    io.runner = &runner;
    return pbrx::client::RunBindepCommand(
        std::vector<std::string>(args.begin() + 1, args.end()), io);
  }
  if (cmd == "build-images") {
    pbrx::client::BuildImagesIo io;
    return pbrx::client::RunBuildImagesCommand(
        std::vector<std::string>(args.begin() + 1, args.end()), io);
  }
  if (cmd == "push-images") {
    pbrx::client::BuildImagesIo io;
    return pbrx::client::RunPushImagesCommand(
        std::vector<std::string>(args.begin() + 1, args.end()), io);
  }
  if (cmd == "farm") {
    pbrx::client::BuildImagesIo io;
    return pbrx::client::RunFarmCommand(
        std::vector<std::string>(args.begin() + 1, args.end()), io);
  }
  if (cmd == "plan") {
    pbrx::client::PlanCommandIo io;
    return pbrx::client::RunPlanCommand(
        std::vector<std::string>(args.begin() + 1, args.end()), io);
  }
  std::fprintf(stderr, "pbrx: unknown command '%s' (try 'pbrx --help')\n",
               cmd.c_str());
  return 2;
}
