#include "cache/cache_server.h"

#include "absl/strings/str_cat.h"
#include "common/daemon.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "grpcpp/server_builder.h"

namespace pbrx::cache {

namespace {

// Splits "HOST:PORT" (HOST may be "[v6]") into its parts; INVALID_ARGUMENT
// otherwise.
absl::Status CheckHostPort(absl::string_view address, absl::string_view flag) {
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0 ||
      colon + 1 == address.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " must be HOST:PORT, got '", address, "'"));
  }
  for (char c : address.substr(colon + 1)) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " port must be a number, got '",
                       address.substr(colon + 1), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

CacheServer::CacheServer(const CacheServerOptions& options,
                         common::Clock* clock)
    : options_(options), clock_(clock) {}

absl::StatusOr<std::unique_ptr<CacheServer>> CacheServer::Create(
    const CacheServerOptions& options, common::Clock* clock) {
  RETURN_IF_ERROR(CheckHostPort(options.listen, "--listen"));
  RETURN_IF_ERROR(common::ValidateServerLimits(options.limits));
  if (options.max_tree_directories < 1) {
    return absl::InvalidArgumentError(
        "--max-tree-directories must be at least 1");
  }
  if (!options.metrics_listen.empty()) {
    RETURN_IF_ERROR(CheckHostPort(options.metrics_listen, "--metrics-listen"));
  }
  if (options.data_dir.empty())
    return absl::InvalidArgumentError("--data-dir is required");
  std::unique_ptr<CacheServer> server(new CacheServer(options, clock));
  ASSIGN_OR_RETURN(server->endpoint_,
                   common::SecureEndpoint(options.listen, options.security));
  const common::Authorizer* auth = server->endpoint_.authorizer.get();
  server->registry_ = std::make_shared<prometheus::Registry>();
  server->metrics_ = std::make_unique<CacheMetrics>(*server->registry_);

  RocksDbStorageOptions storage_options;
  storage_options.path = options.data_dir;
  storage_options.sync_writes = options.sync_writes;
  storage_options.min_free_bytes = options.min_free_bytes;
  ASSIGN_OR_RETURN(server->storage_, RocksDbStorage::Open(storage_options));

  RocksDbBlobStoreOptions blob_options;
  blob_options.max_size_bytes = options.max_size_bytes;
  blob_options.min_age = options.min_age;
  blob_options.touch_granularity =
      std::min(absl::Seconds(10), options.min_age / 10);
  ASSIGN_OR_RETURN(
      server->blob_store_,
      RocksDbBlobStore::Create(server->storage_.get(), clock, blob_options));
  server->raw_action_cache_ =
      std::make_unique<RocksDbActionCache>(server->storage_.get());
  server->action_cache_ = std::make_unique<CompletenessCheckingActionCache>(
      server->raw_action_cache_.get(), server->blob_store_.get());

  CapabilitiesOptions caps;
  caps.authorizer = auth;
  caps.max_batch_total_size_bytes = options.max_batch_total_size_bytes;
  server->capabilities_service_ =
      std::make_unique<CapabilitiesService>(caps, server->metrics_.get());
  CasServiceOptions cas;
  cas.authorizer = auth;
  cas.max_batch_total_size_bytes = options.max_batch_total_size_bytes;
  cas.max_tree_directories = options.max_tree_directories;
  server->cas_service_ = std::make_unique<CasService>(
      server->blob_store_.get(), server->metrics_.get(), cas);
  ActionCacheServiceOptions ac;
  ac.authorizer = auth;
  server->action_cache_service_ = std::make_unique<ActionCacheService>(
      server->action_cache_.get(), server->metrics_.get(), ac);
  server->callback_cas_service_ =
      std::make_unique<CallbackCasService>(server->cas_service_.get());
  server->callback_action_cache_service_ =
      std::make_unique<CallbackActionCacheService>(
          server->action_cache_service_.get());
  server->streams_ = std::make_unique<common::StreamLimiter>(
      common::MaxLongStreams(options.limits),
      options.limits.max_streams_per_peer);
  ByteStreamServiceOptions bs;
  bs.authorizer = auth;
  bs.streams = server->streams_.get();
  server->bytestream_service_ = std::make_unique<ByteStreamService>(
      server->blob_store_.get(), server->metrics_.get(), clock, bs);
  return server;
}

absl::Status CacheServer::Start() {
  // Batches are bounded by max_batch_total_size_bytes; leave room for framing.
  const int max_message =
      static_cast<int>(options_.max_batch_total_size_bytes + (1 << 20));
  ASSIGN_OR_RETURN(
      common::GrpcEndpoint endpoint,
      common::StartGrpcServer(
          options_.listen,
          {capabilities_service_.get(), callback_cas_service_.get(),
           callback_action_cache_service_.get(), bytestream_service_.get()},
          max_message, max_message, endpoint_.credentials, options_.limits));
  server_ = std::move(endpoint.server);
  address_ = endpoint.address;

  if (!options_.metrics_listen.empty()) {
    absl::StatusOr<common::MetricsEndpoint> metrics =
        common::StartMetricsEndpoint(options_.metrics_listen);
    if (!metrics.ok()) {
      server_->Shutdown();
      server_.reset();
      return metrics.status();
    }
    metrics_endpoint_ = std::move(*metrics);
    metrics_address_ = metrics_endpoint_.address;
    metrics_endpoint_.exposer->RegisterCollectable(registry_);
    store_stats_ = std::make_shared<StoreStatsCollector>(blob_store_.get());
    metrics_endpoint_.exposer->RegisterCollectable(store_stats_);
  }
  return absl::OkStatus();
}

void CacheServer::Shutdown(absl::Duration deadline) {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + deadline));
    server_->Wait();
  }
  metrics_endpoint_.exposer.reset();
  store_stats_.reset();
  server_.reset();
  bytestream_service_.reset();  // aborts uploads left open for resumption
  callback_action_cache_service_.reset();
  callback_cas_service_.reset();
  action_cache_service_.reset();
  cas_service_.reset();
  capabilities_service_.reset();
  action_cache_.reset();
  raw_action_cache_.reset();
  blob_store_.reset();
  storage_.reset();  // flushes and closes RocksDB
}

CacheServer::~CacheServer() { Shutdown(absl::Seconds(5)); }

}  // namespace pbrx::cache
