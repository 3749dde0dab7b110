// What pbrx-cache, pbrx-coordinator and pbrx-executor share as daemons:
// SIGINT/SIGTERM taken synchronously (blocked in every thread, waited for
// by main), the bound address printed as the one stdout line, and the
// Prometheus exposer on --metrics-listen.
#ifndef PBRX_COMMON_DAEMON_H_
#define PBRX_COMMON_DAEMON_H_

#include <signal.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prometheus/exposer.h"

namespace pbrx::common {

// Blocks SIGINT and SIGTERM in the calling thread; call before any other
// thread starts so all inherit it. Returns the set for WaitForStopSignal.
sigset_t BlockStopSignals();

// Waits for SIGINT or SIGTERM; returns the signal number.
int WaitForStopSignal(const sigset_t& signals);

// Prints "HOST:PORT" as one line on stdout and flushes it (how tests and
// scripts learn a port-0 address).
void AnnounceAddress(const std::string& address);

// "HOST" of "HOST:PORT".
std::string HostOf(absl::string_view address);

struct MetricsEndpoint {
  std::unique_ptr<prometheus::Exposer> exposer;
  std::string address;  // HOST:PORT actually bound
};

// Serves /metrics on `listen` (HOST:PORT, port 0 allowed). UNAVAILABLE
// naming --metrics-listen when it cannot bind.
absl::StatusOr<MetricsEndpoint> StartMetricsEndpoint(const std::string& listen);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_DAEMON_H_
