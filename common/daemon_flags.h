// The start every daemon's main shares: --help, --version, --quiet, flag
// errors and their exit codes, the same way in pbrx-cache,
// pbrx-coordinator and pbrx-executor.
#ifndef PBRX_COMMON_DAEMON_FLAGS_H_
#define PBRX_COMMON_DAEMON_FLAGS_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/daemon.h"
#include "common/flag_config.h"
#include "common/flag_parser.h"

namespace pbrx::common {

// Adds --config, --log-level, --verbose (-v), --log-format, --quiet and
// --version to `flags`, applies the --config file, parses argv and then runs
// `check` (the daemon's own cross-flag validation; may be empty). Returns the
// exit code main must return now: 0 after printing the usage (--help) or
// "PROGRAM VERSION" (--version) on stdout, 2 after printing
// "PROGRAM: message (see --help)" on stderr for any flag error; or nullopt
// when the daemon should go on, logging as asked (gRPC's own lines too).
// --max-threads, --max-streams-per-connection, --max-connection-idle and
// --min-ping-interval into `limits` (common/daemon.h).
void AddServerLimitFlags(FlagParser& flags, ServerLimits* limits);

std::optional<int> ParseDaemonFlags(const std::string& program,
                                    FlagParser& flags, int argc, char** argv,
                                    const std::function<absl::Status()>& check);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_DAEMON_FLAGS_H_
