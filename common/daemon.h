// What pbrx-cache, pbrx-coordinator and pbrx-executor share as daemons:
// SIGINT/SIGTERM taken synchronously (blocked in every thread, waited for
// by main), the gRPC endpoint, the bound address printed as the one stdout
// line, and the Prometheus exposer on --metrics-listen.
#ifndef PBRX_COMMON_DAEMON_H_
#define PBRX_COMMON_DAEMON_H_

#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "prometheus/exposer.h"

namespace pbrx::common {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread; call before any
// other thread starts so all inherit it. Returns the set for
// WaitForStopSignal.
sigset_t BlockStopSignals();

// Optimized builds (NDEBUG) turn off Abseil's mutex deadlock detection:
// Debian's libabsl is built without NDEBUG, so by default every Mutex lock
// updates one process-wide lock-order graph under a global lock, a cost
// and a point of contention in daemons serving thousands of RPCs a second.
// Debug builds (the tests) keep the detection.
void UseReleaseMutexChecks();

// Waits for SIGINT, SIGTERM or SIGHUP; returns the signal number.
int WaitForStopSignal(const sigset_t& signals);

// Prints "HOST:PORT" as one line on stdout and flushes it (how tests and
// scripts learn a port-0 address).
void AnnounceAddress(const std::string& address);

// "HOST" of "HOST:PORT".
std::string HostOf(absl::string_view address);

// Bounds every daemon's gRPC server keeps, whatever its peers do.
struct ServerLimits {
  // Threads serving RPCs (gRPC's ResourceQuota): an RPC that would need
  // one more is answered RESOURCE_EXHAUSTED instead; the server goes on.
  int64_t max_threads = 4096;
  // Concurrent streams on one HTTP/2 connection.
  int64_t max_streams_per_connection = 1024;
  // Long-lived RPCs (uploads, downloads, Execute, WaitExecution, Work,
  // Build) open at once from one host; in all, MaxLongStreams().
  int64_t max_streams_per_peer = 1024;
  // A connection without an RPC for this long is closed (0: never).
  absl::Duration max_connection_idle = absl::Hours(1);
  // Keepalive enforcement: a peer that pings more often than this while
  // the server sends it nothing gets a GOAWAY ("too_many_pings") at the
  // third such ping. pbrx's own clients ping every 30 s.
  absl::Duration min_ping_interval = absl::Seconds(20);
};

// How many long-lived RPCs may be open in all: --max-threads less a
// reserve (a quarter, at most 64) for short calls and gRPC's pollers.
int64_t MaxLongStreams(const ServerLimits& limits);

// INVALID_ARGUMENT naming the flag: --max-threads 16..1048576,
// --max-streams-per-peer 1..1048576,
// --max-streams-per-connection 1..65536, --min-ping-interval >= 1s.
absl::Status ValidateServerLimits(const ServerLimits& limits);

struct GrpcEndpoint {
  std::unique_ptr<grpc::Server> server;
  std::string address;  // HOST:PORT actually bound
};

// Marks every service of `server` NOT_SERVING in its health service (the
// start of a drain: load balancers and probes stop sending new work).
void StopServing(grpc::Server* server);

// Builds and starts an insecure gRPC server on `listen` (port 0 allowed)
// with `services`, messages up to `max_receive_bytes` in and
// `max_send_bytes` out, and idle sync threads waking every 200 ms (which
// bounds a graceful shutdown's wait), secured by `credentials` (nullptr:
// plaintext; common/server_security.h), within `limits`. UNAVAILABLE naming the
// address when it cannot bind.
absl::StatusOr<GrpcEndpoint> StartGrpcServer(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    int max_receive_bytes, int max_send_bytes,
    std::shared_ptr<grpc::ServerCredentials> credentials,
    const ServerLimits& limits);

// Sends gRPC's own log lines through common/logging ("grpc: FILE:LINE:
// message"); gRPC's debug lines only when debug logging is on.
void RouteGrpcLogs();

// Tells systemd (Type=notify) about the daemon's state, e.g. "READY=1" or
// "STOPPING=1": one datagram to $NOTIFY_SOCKET (a path, or "@name" for the
// abstract namespace). Does nothing without NOTIFY_SOCKET; a failure to
// send is logged, never fatal.
void NotifyServiceManager(const std::string& state);

// The life of a daemon after its server is created: on a creation or
// start error prints "PROGRAM: message" and returns 2 (INVALID_ARGUMENT
// from creation: a usage error, "(see --help)" added) or 1; else announces
// the address (a server that listens: the executor dials out), logs
// `describe()`, reloads its TLS certificates on each SIGHUP (logging what
// came of it; a refused reload keeps the old ones),
// waits for SIGINT/SIGTERM, then drains: the health service says
// NOT_SERVING and the server goes on serving for `drain` (so probes and
// load balancers stop sending it work), shuts the server down with `grace`
// and returns 0. Server needs Start(), address(), StopServing(),
// Shutdown(absl::Duration), ReloadTls().
template <typename Server, typename Describe>
int ServeUntilStopped(const char* program, const sigset_t& signals,
                      absl::StatusOr<std::unique_ptr<Server>> server,
                      absl::Duration grace, Describe describe,
                      absl::Duration drain = absl::ZeroDuration()) {
  if (!server.ok()) {
    const bool usage =
        server.status().code() == absl::StatusCode::kInvalidArgument;
    std::fprintf(stderr, "%s: %s%s\n", program,
                 std::string(server.status().message()).c_str(),
                 usage ? " (see --help)" : "");
    return usage ? 2 : 1;
  }
  if (absl::Status started = (*server)->Start(); !started.ok()) {
    std::fprintf(stderr, "%s: %s\n", program,
                 std::string(started.message()).c_str());
    return 1;
  }
  if (!(*server)->address().empty()) AnnounceAddress((*server)->address());
  LogInfo(describe(**server));
  NotifyServiceManager("READY=1");
  int sig = WaitForStopSignal(signals);
  while (sig == SIGHUP) {
    if (absl::Status s = (*server)->ReloadTls(); s.ok()) {
      LogInfo(program, ": SIGHUP: TLS certificates reloaded");
    } else {
      LogWarning(program, ": SIGHUP: ", s.message());
    }
    sig = WaitForStopSignal(signals);
  }
  NotifyServiceManager("STOPPING=1");
  (*server)->StopServing();
  if (drain > absl::ZeroDuration()) {
    LogInfo(program, ": received signal ", sig, ", draining for ",
            absl::FormatDuration(drain), " (health: NOT_SERVING)");
    absl::SleepFor(drain);
  }
  LogInfo(program, ": received signal ", sig, ", shutting down");
  (*server)->Shutdown(grace);
  server->reset();
  LogInfo(program, ": stopped cleanly");
  return 0;
}

struct MetricsEndpoint {
  std::unique_ptr<prometheus::Exposer> exposer;
  std::string address;  // HOST:PORT actually bound
  // pbrx_build_info and process_* (common/process_metrics.h).
  std::shared_ptr<prometheus::Collectable> process;
};

// Serves /metrics on `listen` (HOST:PORT, port 0 allowed), with the
// process metrics registered. UNAVAILABLE naming --metrics-listen when it
// cannot bind.
absl::StatusOr<MetricsEndpoint> StartMetricsEndpoint(const std::string& listen);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_DAEMON_H_
