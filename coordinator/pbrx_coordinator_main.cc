// pbrx-coordinator: schedules REAPI actions (pbrx build steps and standard
// REAPI clients' actions) onto pbrx-executor daemons, sharing one cache.
//
// Prints the bound "HOST:PORT" as one line on stdout once it serves. Stops
// gracefully on SIGINT/SIGTERM. Exit codes: 0 clean shutdown, 1 runtime
// failure (bind), 2 invalid flags.
#include <signal.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/daemon.h"
#include "common/flag_parser.h"
#include "common/grpc_channel.h"
#include "common/logging.h"
#include "common/server_security.h"
#include "common/version.h"
#include "coordinator/coordinator_server.h"

int main(int argc, char** argv) {
  pbrx::coordinator::CoordinatorServerOptions options;
  absl::Duration shutdown_grace = absl::Seconds(10);
  int64_t max_attempts = 3;
  int64_t max_projects = 8;
  bool version = false;
  bool quiet = false;
  pbrx::common::FlagParser flags("pbrx-coordinator");
  flags.AddString("listen", &options.listen,
                  "gRPC address HOST:PORT (port 0 picks a free port)");
  flags.AddString("cache", &options.cache,
                  "the cache server, grpc://HOST:PORT");
  flags.AddString("metrics-listen", &options.metrics_listen,
                  "Prometheus /metrics address HOST:PORT (empty = off)");
  flags.AddInt("max-parallel-projects", &max_projects,
               "projects of one build request built at once");
  flags.AddInt("max-attempts", &max_attempts,
               "leases per action before it fails when executors are lost");
  flags.AddDuration("executor-timeout", &options.scheduler.worker_timeout,
                    "an executor silent this long is considered lost");
  flags.AddDuration("unmatched-timeout", &options.scheduler.unmatched_timeout,
                    "an action no executor can run fails after this");
  flags.AddDuration("shutdown-grace", &shutdown_grace,
                    "how long in-flight RPCs may run after SIGTERM");
  pbrx::common::AddServerSecurityFlags(flags, &options.security);
  std::string token_file;
  flags.AddString("tls-ca", &options.cache_tls.ca_file,
                  "PEM CA bundle that verifies a grpcs:// --cache (default: "
                  "the system's)");
  flags.AddString("cache-tls-cert", &options.cache_tls.cert_file,
                  "PEM client certificate towards a grpcs:// --cache (mTLS; "
                  "default: --tls-cert)");
  flags.AddString("cache-tls-key", &options.cache_tls.key_file,
                  "the PEM private key of --cache-tls-cert (default: "
                  "--tls-key)");
  flags.AddString("token-file", &token_file,
                  "a file whose first line is the bearer token sent to the "
                  "cache");
  flags.AddBool("quiet", &quiet, "log only warnings and errors");
  flags.AddBool("version", &version, "print the version and exit");
  flags.Require("cache");

  bool help = false;
  absl::Status parsed = flags.Parse(argc, argv, &help);
  if (help) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (version) {
    std::printf("pbrx-coordinator %s\n", pbrx::kVersion);
    return 0;
  }
  if (parsed.ok() && (max_attempts < 1 || max_attempts > 100)) {
    parsed = absl::InvalidArgumentError("--max-attempts must be 1..100");
  }
  if (parsed.ok() && (max_projects < 1 || max_projects > 256)) {
    parsed =
        absl::InvalidArgumentError("--max-parallel-projects must be 1..256");
  }
  if (parsed.ok())
    parsed = pbrx::common::LoadTokenFile(token_file, &options.cache_token);
  // Unless told otherwise, its own certificate is its client certificate
  // towards a grpcs:// cache.
  if (options.cache_tls.cert_file.empty() &&
      options.cache_tls.key_file.empty() &&
      pbrx::common::IsTlsUrl(options.cache)) {
    options.cache_tls.cert_file = options.security.tls.cert_file;
    options.cache_tls.key_file = options.security.tls.key_file;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "pbrx-coordinator: %s (see --help)\n",
                 std::string(parsed.message()).c_str());
    return 2;
  }
  options.scheduler.max_attempts = static_cast<int>(max_attempts);
  options.max_parallel_projects = static_cast<int>(max_projects);
  options.scheduler.heartbeat_interval =
      std::min(absl::Seconds(5), options.scheduler.worker_timeout / 4);
  pbrx::common::SetInfoLogging(!quiet);

  const sigset_t signals = pbrx::common::BlockStopSignals();

  pbrx::common::RealClock clock;
  return pbrx::common::ServeUntilStopped(
      "pbrx-coordinator", signals,
      pbrx::coordinator::CoordinatorServer::Create(options, &clock),
      shutdown_grace, [&](pbrx::coordinator::CoordinatorServer& s) {
        return absl::StrCat(
            "pbrx-coordinator ", pbrx::kVersion, " serving on ", s.address(),
            " (", s.security(), "), cache ", options.cache,
            s.metrics_address().empty()
                ? std::string()
                : absl::StrCat(", metrics on http://", s.metrics_address(),
                               "/metrics"));
      });
}
