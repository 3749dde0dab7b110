// The `pbrx` command-line interface. Subcommands dispatch to libraries; this
// file only picks the command and maps results to exit codes:
//   0 success, 1 the operation failed, 2 usage error, 3 the farm is
//   unreachable or failed.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/bindep_command.h"
#include "client/build_images_command.h"
#include "client/command_docs.h"
#include "client/config_command.h"
#include "client/farm_client.h"
#include "client/man_pages.h"
#include "client/paths.h"
#include "client/plan_command.h"
#include "client/push_images_command.h"
#include "client/shell_completion.h"
#include "common/step_tool.h"
#include "common/step_tool_runner.h"
#include "common/version.h"

namespace {

void Usage(FILE* out) {
  std::fputs(
      "usage: pbrx [--help] COMMAND [ARGS...]\n\n"
      "pbrx farm builds container images for Python projects: one "
      "{name}-base image\nand one image per console_scripts entry "
      "point.\n\ncommands:\n",
      out);
  for (const pbrx::client::CommandDoc& c : pbrx::client::CommandDocs())
    std::fputs(absl::StrFormat("  %-14s %s\n", c.name, c.summary).c_str(), out);
  std::fputs(
      "\n'pbrx help COMMAND' (or 'pbrx COMMAND --help') describes a command's "
      "flags.\nbuild-images runs everything in this process (embedded mode), "
      "or on a farm\nwith --farm grpc://HOST:PORT (or PBRX_FARM): a "
      "pbrx-coordinator with\npbrx-executor daemons sharing a pbrx-cache.\n\n"
      "exit codes: 0 success, 1 failure, 2 usage error, 3 the farm is "
      "unreachable\nor failed\n",
      out);
}

int Completion(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] == "--help" || args[0] == "-h") {
    std::fputs(
        "usage: pbrx completion bash|zsh|fish\n\n"
        "Prints a completion script; e.g. in ~/.bashrc:\n"
        "  source <(pbrx completion bash)\n"
        "tools/install puts them where bash, zsh and fish look.\n",
        args.size() == 1 ? stdout : stderr);
    return args.size() == 1 ? 0 : 2;
  }
  absl::StatusOr<std::string> script =
      pbrx::client::CompletionScript(args[0], pbrx::client::CommandDocs());
  if (!script.ok()) {
    std::fprintf(stderr, "pbrx completion: %s\n",
                 std::string(script.status().message()).c_str());
    return 2;
  }
  std::fputs(script->c_str(), stdout);
  return 0;
}

int Man(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] == "--help" || args[0] == "-h") {
    std::fputs(
        "usage: pbrx man DIR\n\nWrites the man pages pbrx.1 and "
        "pbrx-COMMAND.1 into DIR (created with its parents if missing).\n",
        args.size() == 1 ? stdout : stderr);
    return args.size() == 1 ? 0 : 2;
  }
  const std::string& dir = args[0];
  if (!pbrx::client::MakeDirs(dir)) {
    std::fprintf(stderr, "pbrx man: cannot create %s: %s\n", dir.c_str(),
                 std::strerror(errno));
    return 1;
  }
  for (const auto& [file, text] :
       pbrx::client::ManPages(pbrx::client::CommandDocs(), pbrx::kVersion)) {
    std::ofstream out(dir + "/" + file, std::ios::trunc);
    out << text;
    if (!out.flush()) {
      std::fprintf(stderr, "pbrx man: cannot write %s/%s\n", dir.c_str(),
                   file.c_str());
      return 1;
    }
  }
  return 0;
}

int Dispatch(const std::string& cmd, const std::vector<std::string>& rest) {
  pbrx::client::BuildImagesIo io;
  if (cmd == "bindep") {
    pbrx::common::bindep::SubprocessRunner runner;
    pbrx::client::BindepCommandIo bio;
    bio.runner = &runner;
    return pbrx::client::RunBindepCommand(rest, bio);
  }
  if (cmd == "build-images")
    return pbrx::client::RunBuildImagesCommand(rest, io);
  if (cmd == "push-images") return pbrx::client::RunPushImagesCommand(rest, io);
  if (cmd == "farm") return pbrx::client::RunFarmCommand(rest, io);
  if (cmd == "plan") {
    pbrx::client::PlanCommandIo pio;
    return pbrx::client::RunPlanCommand(rest, pio);
  }
  if (cmd == "config")
    return pbrx::client::RunConfigCommand(rest, io, std::getenv);
  if (cmd == "completion") return Completion(rest);
  if (cmd == "man") return Man(rest);
  std::string close = pbrx::client::ClosestCommand(cmd);
  std::fprintf(stderr, "pbrx: unknown command '%s' (%s)\n", cmd.c_str(),
               close.empty()
                   ? "try 'pbrx --help'"
                   : absl::StrCat("did you mean '", close, "'?").c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // In embedded mode this binary is also the step tools' (a Python layer's
  // wheel installs run it inside a sandbox).
  if (pbrx::common::IsStepToolInvocation(argc, argv))
    return pbrx::common::RunStepTool(argc, argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    Usage(stderr);
    return 2;
  }
  const std::string& cmd = args[0];
  if (cmd == "--help" || cmd == "-h") {
    Usage(stdout);
    return 0;
  }
  if (cmd == "help") {
    if (args.size() == 1) {
      Usage(stdout);
      return 0;
    }
    // pbrx help COMMAND [SUB]: the command's own --help.
    std::vector<std::string> rest(args.begin() + 2, args.end());
    rest.push_back("--help");
    return Dispatch(args[1], rest);
  }
  if (cmd == "version" || cmd == "--version") {
    std::printf("pbrx %s\n", pbrx::kVersion);
    return 0;
  }
  return Dispatch(cmd, std::vector<std::string>(args.begin() + 1, args.end()));
}
