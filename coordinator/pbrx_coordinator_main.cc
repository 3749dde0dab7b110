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
#include "common/daemon_flags.h"
#include "common/flag_parser.h"
#include "common/grpc_channel.h"
#include "common/logging.h"
#include "common/server_security.h"
#include "common/version.h"
#include "coordinator/coordinator_server.h"

int main(int argc, char** argv) {
  pbrx::coordinator::CoordinatorServerOptions options;
  absl::Duration shutdown_grace = absl::Seconds(10);
  absl::Duration drain_period = absl::ZeroDuration();
  int64_t max_attempts = 3;
  int64_t max_projects = 8;
  pbrx::common::FlagParser flags("pbrx-coordinator");
  flags.AddString("listen", &options.listen,
                  "gRPC address HOST:PORT (port 0 picks a free port)");
  flags.AddString("cache", &options.cache,
                  "the cache server, grpc://HOST:PORT");
  flags.AddString("metrics-listen", &options.metrics_listen,
                  "Prometheus /metrics address HOST:PORT (empty = off)");
  flags.AddString("http-listen", &options.http_listen,
                  "the status page (HTML at /, JSON at /status.json) on "
                  "HOST:PORT; unauthenticated, like /metrics: loopback or a "
                  "management network (empty = off)");
  flags.AddInt("max-parallel-projects", &max_projects,
               "projects of one build request built at once");
  flags.AddInt("max-attempts", &max_attempts,
               "leases per action before it fails when executors are lost");
  flags.AddDuration("executor-timeout", &options.scheduler.worker_timeout,
                    "an executor silent this long is considered lost");
  flags.AddDuration("unmatched-timeout", &options.scheduler.unmatched_timeout,
                    "an action no executor can run fails after this");
  flags.AddDuration("build-timeout", &options.build_timeout,
                    "a Build API build still running after this fails "
                    "(its waiting steps released), e.g. 12h");
  flags.AddDuration("lease-grace", &options.scheduler.lease_grace,
                    "a lease still running this long past its Action's "
                    "timeout is cancelled and requeued");
  flags.AddByteSize("small-blob-cache", &options.small_blobs.max_total_bytes,
                    "memory for recently written or read blobs of up to 64 "
                    "KiB (directories, actions, small outputs), so repeated "
                    "steps skip round trips to the cache (0 = off)");
  flags.AddDuration("shutdown-grace", &shutdown_grace,
                    "how long in-flight RPCs may run after SIGTERM");
  flags.AddDuration("drain-period", &drain_period,
                    "after SIGTERM, how long the health service says "
                    "NOT_SERVING while RPCs are still served (so probes and "
                    "load balancers move away) before shutting down");
  pbrx::common::AddServerSecurityFlags(flags, &options.security);
  pbrx::common::AddServerLimitFlags(flags, &options.limits);
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
  flags.Require("cache");

  auto check = [&]() -> absl::Status {
    if (max_attempts < 1 || max_attempts > 100)
      return absl::InvalidArgumentError("--max-attempts must be 1..100");
    if (options.build_timeout < absl::Seconds(1))
      return absl::InvalidArgumentError("--build-timeout must be at least 1s");
    if (options.scheduler.lease_grace < absl::Seconds(1))
      return absl::InvalidArgumentError("--lease-grace must be at least 1s");
    if (options.small_blobs.max_total_bytes < 0 ||
        options.small_blobs.max_total_bytes > (int64_t{64} << 30)) {
      return absl::InvalidArgumentError("--small-blob-cache must be 0..64GiB");
    }
    if (max_projects < 1 || max_projects > 256) {
      return absl::InvalidArgumentError(
          "--max-parallel-projects must be 1..256");
    }
    // Unless told otherwise, its own certificate is its client certificate
    // towards a grpcs:// cache.
    if (options.cache_tls.cert_file.empty() &&
        options.cache_tls.key_file.empty() &&
        pbrx::common::IsTlsUrl(options.cache)) {
      options.cache_tls.cert_file = options.security.tls.cert_file;
      options.cache_tls.key_file = options.security.tls.key_file;
    }
    return pbrx::common::LoadTokenFile(token_file, &options.cache_token);
  };
  if (std::optional<int> exit_code = pbrx::common::ParseDaemonFlags(
          "pbrx-coordinator", flags, argc, argv, check)) {
    return *exit_code;
  }
  options.scheduler.max_attempts = static_cast<int>(max_attempts);
  options.max_parallel_projects = static_cast<int>(max_projects);
  options.scheduler.heartbeat_interval =
      std::min(absl::Seconds(5), options.scheduler.worker_timeout / 4);

  const sigset_t signals = pbrx::common::BlockStopSignals();
  pbrx::common::UseReleaseMutexChecks();

  // Timeouts and deadlines must not move with the wall clock.
  pbrx::common::MonotonicClock clock;
  return pbrx::common::ServeUntilStopped(
      "pbrx-coordinator", signals,
      pbrx::coordinator::CoordinatorServer::Create(options, &clock),
      shutdown_grace,
      [&](pbrx::coordinator::CoordinatorServer& s) {
        return absl::StrCat(
            "pbrx-coordinator ", pbrx::kVersion, " serving on ", s.address(),
            " (", s.security(), "), cache ", options.cache,
            s.metrics_address().empty()
                ? std::string()
                : absl::StrCat(", metrics on http://", s.metrics_address(),
                               "/metrics"),
            s.http_address().empty() ? std::string()
                                     : absl::StrCat(", status page on http://",
                                                    s.http_address(), "/"));
      },
      drain_period);
}
