#include "common/daemon.h"

#include <cstdio>
#include <exception>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace pbrx::common {

sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
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

absl::StatusOr<GrpcEndpoint> StartGrpcServer(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    int max_receive_bytes, int max_send_bytes,
    std::shared_ptr<grpc::ServerCredentials> credentials) {
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
  for (grpc::Service* s : services) builder.RegisterService(s);
  GrpcEndpoint out;
  out.server = builder.BuildAndStart();
  if (out.server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  out.address = absl::StrCat(HostOf(listen), ":", port);
  return out;
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
  std::vector<int> ports = out.exposer->GetListeningPorts();
  out.address =
      absl::StrCat(HostOf(listen), ":", ports.empty() ? 0 : ports.front());
  return out;
}

}  // namespace pbrx::common
