// CacheServer wires the cache together: RocksDB storage, the blob store with
// eviction, the completeness-checking Action Cache, the four REAPI services on
// one gRPC endpoint, and the Prometheus exposer. Lifecycle: Create() opens
// storage, Start() binds and serves, Shutdown() stops accepting, lets
// in-flight RPCs finish until the deadline, then closes RocksDB cleanly
// (reverse order of construction).
#ifndef PBRX_CACHE_CACHE_SERVER_H_
#define PBRX_CACHE_CACHE_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/action_cache_service.h"
#include "cache/bytestream_service.h"
#include "cache/cache_metrics.h"
#include "cache/callback_services.h"
#include "cache/capabilities_service.h"
#include "cache/cas_service.h"
#include "cache/completeness_checking_action_cache.h"
#include "cache/rocksdb_action_cache.h"
#include "cache/rocksdb_blob_store.h"
#include "cache/rocksdb_storage.h"
#include "common/clock.h"
#include "common/daemon.h"
#include "common/server_security.h"
#include "common/stream_limiter.h"
#include "grpcpp/server.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace pbrx::cache {

struct CacheServerOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT, port 0 = pick one
  std::string data_dir;
  int64_t max_size_bytes = 0;  // 0 = unbounded
  absl::Duration min_age = absl::Minutes(5);
  std::string metrics_listen;  // empty = no metrics endpoint
  bool sync_writes = false;
  int64_t max_batch_total_size_bytes = 4 << 20;
  // Writes adding data are refused while the disk has less free space
  // (RocksDbStorageOptions::min_free_bytes).
  int64_t min_free_bytes = int64_t{256} << 20;
  // GetTree refuses trees with more directories (CasServiceOptions).
  int64_t max_tree_directories = int64_t{1} << 20;
  // TLS, tokens and roles (common/server_security.h).
  common::ServerSecurity security;
  // Threads, streams, idle connections, keepalive (common/daemon.h).
  common::ServerLimits limits;
};

class CacheServer {
 public:
  // Opens the database under options.data_dir. `clock` must outlive the
  // server.
  static absl::StatusOr<std::unique_ptr<CacheServer>> Create(
      const CacheServerOptions& options, common::Clock* clock);
  ~CacheServer();

  // Binds the gRPC endpoint (and metrics, if configured) and starts serving.
  // UNAVAILABLE if an address cannot be bound.
  absl::Status Start();
  // "HOST:PORT" actually bound (after Start()).
  const std::string& address() const { return address_; }
  const std::string& metrics_address() const { return metrics_address_; }

  // The health service says NOT_SERVING from now on (a drain starts).
  void StopServing() { common::StopServing(server_.get()); }
  // Stops accepting RPCs, waits for in-flight ones up to `deadline` (then
  // cancels them), and closes the database. Idempotent.
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

  BlobStore& blob_store() { return *blob_store_; }
  // How the endpoint is secured, e.g. "TLS, tokens from FILE".
  const std::string& security() const { return endpoint_.description; }

 private:
  explicit CacheServer(const CacheServerOptions& options, common::Clock* clock);

  CacheServerOptions options_;
  common::Clock* clock_;
  common::SecuredEndpoint endpoint_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<CacheMetrics> metrics_;
  std::unique_ptr<RocksDbStorage> storage_;
  std::unique_ptr<RocksDbBlobStore> blob_store_;
  std::unique_ptr<RocksDbActionCache> raw_action_cache_;
  std::unique_ptr<CompletenessCheckingActionCache> action_cache_;
  std::unique_ptr<CapabilitiesService> capabilities_service_;
  std::unique_ptr<CasService> cas_service_;
  std::unique_ptr<ActionCacheService> action_cache_service_;
  std::unique_ptr<CallbackCasService> callback_cas_service_;
  std::unique_ptr<CallbackActionCacheService> callback_action_cache_service_;
  std::unique_ptr<common::StreamLimiter> streams_;
  std::unique_ptr<ByteStreamService> bytestream_service_;
  std::unique_ptr<grpc::Server> server_;
  common::MetricsEndpoint metrics_endpoint_;  // exposer and process metrics
  std::string address_;
  std::string metrics_address_;
  std::shared_ptr<StoreStatsCollector> store_stats_;
  bool shut_down_ = false;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_CACHE_SERVER_H_
