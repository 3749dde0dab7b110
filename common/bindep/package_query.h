// Installed-package checks as bindep makes them: one query command per
// package, its answer parsed into "not installed" or a version.
//   dpkg   dpkg-query -W -f '${Package} ${Status} ${Version}\n' NAME
//   rpm    rpm --qf '%{NAME} %|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}\n'
//   --whatprovides -q NAME apk    apk info -e -v NAME      (NAME-VERSION when
//   installed) pacman pacman -Q NAME emerge equery l --format='$version' NAME
//   brew   brew list --versions NAME
// Commands run through an injected CommandRunner, so parsing is unit-tested
// with recorded answers and the real tools are used in integration tests.
#ifndef PBRX_COMMON_BINDEP_PACKAGE_QUERY_H_
#define PBRX_COMMON_BINDEP_PACKAGE_QUERY_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bindep/platform.h"

namespace pbrx::common::bindep {

struct CommandResult {
  int exit_code = 0;
  std::string output;  // stdout and stderr together
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs argv (argv[0] looked up in PATH). UNAVAILABLE if it cannot start.
  virtual absl::StatusOr<CommandResult> Run(
      const std::vector<std::string>& argv) = 0;
};

// fork/exec; the child's stdin is /dev/null.
class SubprocessRunner : public CommandRunner {
 public:
  absl::StatusOr<CommandResult> Run(
      const std::vector<std::string>& argv) override;
};

class PackageQuery {
 public:
  virtual ~PackageQuery() = default;
  // The installed version, nullopt if not installed. INTERNAL with the
  // tool's output when its answer cannot be understood.
  virtual absl::StatusOr<std::optional<std::string>> InstalledVersion(
      const std::string& package) = 0;
};

// The query for `pm`, running commands through `runner` (must outlive it).
// UNIMPLEMENTED for PackageManager::kUnknown.
absl::StatusOr<std::unique_ptr<PackageQuery>> MakePackageQuery(
    PackageManager pm, CommandRunner* runner);

}  // namespace pbrx::common::bindep

#endif  // PBRX_COMMON_BINDEP_PACKAGE_QUERY_H_
