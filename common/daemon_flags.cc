#include "common/daemon_flags.h"

#include <cstdio>

#include "common/logging.h"
#include "common/version.h"

namespace pbrx::common {

void AddServerLimitFlags(FlagParser& flags, ServerLimits* limits) {
  flags.AddInt("max-threads", &limits->max_threads,
               "threads serving RPCs; an RPC that would need one more gets "
               "RESOURCE_EXHAUSTED");
  flags.AddInt("max-streams-per-peer", &limits->max_streams_per_peer,
               "long-lived RPCs (uploads, downloads, Execute, Work, Build) "
               "open at once from one host; more get RESOURCE_EXHAUSTED");
  flags.AddInt("max-streams-per-connection",
               &limits->max_streams_per_connection,
               "concurrent RPCs on one HTTP/2 connection");
  flags.AddDuration("max-connection-idle", &limits->max_connection_idle,
                    "close a connection without RPCs after this (0 = never)");
  flags.AddDuration("min-ping-interval", &limits->min_ping_interval,
                    "keepalive enforcement: a peer pinging more often while "
                    "nothing is sent to it is disconnected (pbrx clients "
                    "ping every 30s)");
}

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
