#include "common/daemon_flags.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/flag_config.h"
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
  bool verbose = false;
  bool version = false;
  std::string config, log_level = "info", log_format = "text";
  flags.AddString("config", &config,
                  "TOML file of flag values: top-level keys named like the "
                  "flags (data-dir or data_dir), lists for repeated flags; "
                  "flags on the command line win");
  flags.AddString("log-level", &log_level,
                  "debug (every request with its REAPI RequestMetadata, and "
                  "gRPC's own debug lines), info, warning or error");
  flags.AddString("log-format", &log_format,
                  "text (\"I2026-12-02T14:00:00.000Z message\") or json "
                  "(one object per line: ts, level, msg)");
  flags.AddBool("quiet", &quiet, "log only warnings and errors");
  flags.AddBool("verbose", &verbose,
                "--log-level=debug (a --log-level on the command line wins)");
  flags.AddShort('v', "verbose");
  flags.AddBool("version", &version, "print the version and exit");
  // The --config file is applied before the command line, which wins.
  std::string config_file;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--config" && i + 1 < argc) config_file = argv[i + 1];
    if (absl::StartsWith(arg, "--config=")) {
      config_file = std::string(arg.substr(9));
    }
  }
  absl::Status parsed = absl::OkStatus();
  if (!config_file.empty()) parsed = ApplyConfigFile(flags, config_file);
  bool help = false;
  if (parsed.ok()) parsed = flags.Parse(argc, argv, &help);
  if (help) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (version) {
    std::printf("%s %s\n", program.c_str(), kVersion);
    return 0;
  }
  // -v on the command line beats a level from the file.
  if (verbose && !flags.GivenOnCommandLine("log-level")) log_level = "debug";
  absl::StatusOr<LogSeverity> level = ParseLogLevel(log_level);
  absl::StatusOr<LogFormat> format = ParseLogFormat(log_format);
  if (parsed.ok() && !level.ok()) parsed = level.status();
  if (parsed.ok() && !format.ok()) parsed = format.status();
  if (parsed.ok() && check) parsed = check();
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: %s (see --help)\n", program.c_str(),
                 std::string(parsed.message()).c_str());
    return 2;
  }
  // Debian's Abseil is built with Mutex deadlock detection on: it records a
  // lock graph on every acquisition (a few % of a busy daemon's CPU). The
  // daemons' lock order is checked by the unit tests, which keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  SetLogFormat(*format);
  // --quiet lowers the default; an explicit level other than info wins.
  SetLogLevel(quiet && *level == LogSeverity::kInfo ? LogSeverity::kWarning
                                                    : *level);
  RouteGrpcLogs();
  return std::nullopt;
}

}  // namespace pbrx::common
