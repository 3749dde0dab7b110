#include "common/daemon_flags.h"

#include <cstdio>

#include "common/logging.h"
#include "common/version.h"

namespace pbrx::common {

std::optional<int> ParseDaemonFlags(
    const std::string& program, FlagParser& flags, int argc, char** argv,
    const std::function<absl::Status()>& check) {
  bool quiet = false;
  bool version = false;
  flags.AddBool("quiet", &quiet, "log only warnings and errors");
  flags.AddBool("version", &version, "print the version and exit");
  bool help = false;
  absl::Status parsed = flags.Parse(argc, argv, &help);
  if (help) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (version) {
    std::printf("%s %s\n", program.c_str(), kVersion);
    return 0;
  }
  if (parsed.ok() && check) parsed = check();
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: %s (see --help)\n", program.c_str(),
                 std::string(parsed.message()).c_str());
    return 2;
  }
  SetInfoLogging(!quiet);
  return std::nullopt;
}

}  // namespace pbrx::common
