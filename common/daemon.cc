#include "common/daemon.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/process_metrics.h"
#include "common/version.h"
#include "grpc/support/log.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace pbrx::common {

sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

void UseReleaseMutexChecks() {
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

int WaitForStopSignal(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  return sig;
}

void AnnounceAddress(const std::string& address) {
  std::printf("%s\n", address.c_str());
  std::fflush(stdout);
}

std::string HostOf(absl::string_view address) {
  return std::string(address.substr(0, address.rfind(':')));
}

int64_t MaxLongStreams(const ServerLimits& limits) {
  return limits.max_threads - std::min<int64_t>(64, limits.max_threads / 4);
}

absl::Status ValidateServerLimits(const ServerLimits& limits) {
  if (limits.max_threads < 16 || limits.max_threads > (1 << 20))
    return absl::InvalidArgumentError("--max-threads must be 16..1048576");
  if (limits.max_streams_per_peer < 1 ||
      limits.max_streams_per_peer > (1 << 20)) {
    return absl::InvalidArgumentError(
        "--max-streams-per-peer must be 1..1048576");
  }
  if (limits.max_streams_per_connection < 1 ||
      limits.max_streams_per_connection > 65536) {
    return absl::InvalidArgumentError(
        "--max-streams-per-connection must be 1..65536");
  }
  if (limits.max_connection_idle < absl::ZeroDuration() ||
      limits.max_connection_idle > absl::Hours(24 * 24)) {
    return absl::InvalidArgumentError(
        "--max-connection-idle must be 0 (never) up to 576h");
  }
  if (limits.min_ping_interval < absl::Seconds(1) ||
      limits.min_ping_interval > absl::Hours(24 * 24)) {
    return absl::InvalidArgumentError(
        "--min-ping-interval must be 1s up to 576h");
  }
  return absl::OkStatus();
}

absl::StatusOr<GrpcEndpoint> StartGrpcServer(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    int max_receive_bytes, int max_send_bytes,
    std::shared_ptr<grpc::ServerCredentials> credentials,
    const ServerLimits& limits) {
  // The standard health service (grpc.health.v1.Health: SERVING from the
  // start, NOT_SERVING while draining) and server reflection, on every
  // daemon. Process-wide switches: set before a builder is made.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(
      listen,
      credentials != nullptr ? credentials : grpc::InsecureServerCredentials(),
      &port);
  builder.SetMaxReceiveMessageSize(max_receive_bytes);
  builder.SetMaxSendMessageSize(max_send_bytes);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::CQ_TIMEOUT_MSEC, 200);
  // Idle threads wait for the next RPC instead of exiting: under load,
  // gRPC's default (at most 2 idle pollers per queue) makes and ends a
  // thread per burst of calls, whose stacks cost page faults and memory
  // cgroup charges. ResourceQuota below still caps the threads.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 16);
  grpc::ResourceQuota quota("pbrx-server");
  quota.SetMaxThreads(static_cast<int>(limits.max_threads));
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONCURRENT_STREAMS,
      static_cast<int>(limits.max_streams_per_connection));
  if (limits.max_connection_idle > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(
                                   limits.max_connection_idle)));
  }
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      static_cast<int>(absl::ToInt64Milliseconds(limits.min_ping_interval)));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  for (grpc::Service* s : services) builder.RegisterService(s);
  GrpcEndpoint out;
  out.server = builder.BuildAndStart();
  if (out.server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  out.address = absl::StrCat(HostOf(listen), ":", port);
  if (grpc::HealthCheckServiceInterface* health =
          out.server->GetHealthCheckService()) {
    health->SetServingStatus(true);
  }
  return out;
}

void StopServing(grpc::Server* server) {
  if (server == nullptr) return;
  if (grpc::HealthCheckServiceInterface* health =
          server->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
}

namespace {

void GrpcLogLine(gpr_log_func_args* args) {
  LogSeverity severity =
      args->severity == GPR_LOG_SEVERITY_DEBUG  ? LogSeverity::kDebug
      : args->severity == GPR_LOG_SEVERITY_INFO ? LogSeverity::kInfo
                                                : LogSeverity::kError;
  const char* file = args->file != nullptr ? args->file : "?";
  if (const char* slash = std::strrchr(file, '/')) file = slash + 1;
  LogLine(severity,
          absl::StrCat("grpc: ", file, ":", args->line, ": ",
                       args->message != nullptr ? args->message : ""));
}

}  // namespace

void RouteGrpcLogs() {
  gpr_set_log_function(GrpcLogLine);
  gpr_set_log_verbosity(LogEnabled(LogSeverity::kDebug)
                            ? GPR_LOG_SEVERITY_DEBUG
                            : GPR_LOG_SEVERITY_ERROR);
}

void NotifyServiceManager(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return;
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof(addr.sun_path)) {
    LogWarning("NOTIFY_SOCKET is not a socket path: ", path);
    return;
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  socklen_t addr_len =
      static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + len);
  if (sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
             reinterpret_cast<const struct sockaddr*>(&addr), addr_len) < 0) {
    LogWarning("cannot notify the service manager at ", path, ": ",
               std::strerror(errno));
  }
  close(fd);
}

absl::StatusOr<MetricsEndpoint> StartMetricsEndpoint(
    const std::string& listen) {
  MetricsEndpoint out;
  // civetweb (inside prometheus-cpp) reports bind failures by throwing;
  // this is the one place where a foreign exception becomes a status.
  try {
    out.exposer = std::make_unique<prometheus::Exposer>(listen, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on --metrics-listen ", listen, ": ", e.what()));
  }
  out.process = std::make_shared<ProcessCollector>(kVersion);
  out.exposer->RegisterCollectable(out.process);
  std::vector<int> ports = out.exposer->GetListeningPorts();
  out.address =
      absl::StrCat(HostOf(listen), ":", ports.empty() ? 0 : ports.front());
  return out;
}

}  // namespace pbrx::common
