// CoordinatorServer wires the farm's coordinator on one gRPC endpoint:
//   - REAPI Execution (Execute, WaitExecution) over the Scheduler,
//   - REAPI Capabilities (execution enabled),
//   - REAPI ContentAddressableStorage, ActionCache and ByteStream, proxied
//     to the cache server (so a REAPI client needs only this address),
//   - the Build API (`pbrx build-images --farm`), the Worker API for
//     executors and the FarmStatus API,
// plus Prometheus metrics and a ticker thread that expires silent executors
// and unmatchable actions. Lifecycle as CacheServer: Create, Start,
// Shutdown. Nothing is stored here: results live in the cache, so a
// restart loses no cached result.
#ifndef PBRX_COORDINATOR_COORDINATOR_SERVER_H_
#define PBRX_COORDINATOR_COORDINATOR_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "cache/grpc_cache_client.h"
#include "cache/small_blob_cache.h"
#include "common/clock.h"
#include "common/daemon.h"
#include "common/server_security.h"
#include "common/steady_notification.h"
#include "common/stream_limiter.h"
#include "common/tls.h"
#include "coordinator/build_tracker.h"
#include "coordinator/coordinator_metrics.h"
#include "coordinator/scheduler.h"
#include "coordinator/status_page.h"
#include "grpcpp/server.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace pbrx::coordinator {

struct CoordinatorServerOptions {
  std::string listen = "127.0.0.1:0";
  std::string cache;  // grpc:// or grpcs://HOST:PORT of the cache server
  // The channel to the cache: TLS files (grpcs://) and a bearer token.
  common::ClientTls cache_tls;
  std::string cache_token;
  // TLS, tokens and roles of its own endpoint (common/server_security.h).
  common::ServerSecurity security;
  // Threads, streams, idle connections, keepalive (common/daemon.h).
  common::ServerLimits limits;
  std::string metrics_listen;
  std::string http_listen;  // the status page (empty: none)
  int max_parallel_projects = 8;
  absl::Duration build_timeout = absl::Hours(12);
  SchedulerOptions scheduler;
  // Small blobs held in memory in front of the cache
  // (cache/small_blob_cache.h); max_total_bytes 0: none.
  cache::SmallBlobCacheOptions small_blobs;
};

class CoordinatorServer {
 public:
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Create(
      const CoordinatorServerOptions& options, common::Clock* clock);
  ~CoordinatorServer();

  absl::Status Start();
  const std::string& address() const { return address_; }
  const std::string& metrics_address() const { return metrics_address_; }
  // The status page's HOST:PORT ("" without --http-listen).
  const std::string& http_address() const { return http_address_; }
  // What the status page shows, now.
  StatusSnapshot Snapshot();
  // The health service says NOT_SERVING from now on (a drain starts).
  void StopServing() { common::StopServing(server_.get()); }
  void Shutdown(absl::Duration deadline);
  // Reads the TLS certificate files again (SIGHUP); FAILED_PRECONDITION
  // when this server serves plaintext, the error naming a bad file else
  // (the old certificates stay).
  absl::Status ReloadTls() {
    if (endpoint_.certificates == nullptr) {
      return absl::FailedPreconditionError(
          "no TLS certificates to reload (plaintext)");
    }
    return endpoint_.certificates->Reload();
  }

  Scheduler& scheduler() { return *scheduler_; }
  cache::BlobStore& cas() { return *cas_; }
  cache::ActionCache& action_cache() { return *ac_; }
  CoordinatorMetrics& metrics() { return *metrics_; }
  // How the endpoint is secured, e.g. "TLS, tokens from FILE".
  const std::string& security() const { return endpoint_.description; }

 private:
  CoordinatorServer() = default;
  struct Services;

  CoordinatorServerOptions options_;
  common::Clock* clock_ = nullptr;
  common::SecuredEndpoint endpoint_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<CoordinatorMetrics> metrics_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<common::StreamLimiter> streams_;
  std::unique_ptr<cache::GrpcBlobStore> remote_cas_;
  // remote_cas_ behind the small-blob cache (or remote_cas_ itself).
  std::unique_ptr<cache::SmallBlobCache> small_blobs_;
  cache::BlobStore* cas_ = nullptr;
  std::unique_ptr<cache::GrpcActionCache> ac_;
  std::unique_ptr<Services> services_;
  std::unique_ptr<grpc::Server> server_;
  common::MetricsEndpoint metrics_endpoint_;  // exposer and process metrics
  std::shared_ptr<SchedulerCollector> collector_;
  std::shared_ptr<SmallBlobCacheCollector> small_blob_collector_;
  std::unique_ptr<BuildTracker> tracker_;
  std::unique_ptr<StatusPageServer> status_page_;
  std::string http_address_;
  common::SteadyNotification stop_ticking_;
  std::thread ticker_;
  std::string address_;
  std::string metrics_address_;
  bool shut_down_ = false;
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_COORDINATOR_SERVER_H_
