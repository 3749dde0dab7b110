#include "coordinator/coordinator_server.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "cache/action_cache_service.h"
#include "cache/bytestream_service.h"
#include "cache/cache_metrics.h"
#include "cache/capabilities_service.h"
#include "cache/cas_service.h"
#include "common/daemon.h"
#include "common/grpc_channel.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/version.h"
#include "coordinator/build_service.h"
#include "coordinator/execution_service.h"
#include "coordinator/worker_service.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "proto/farm.grpc.pb.h"

namespace pbrx::coordinator {
namespace {

namespace fv = pbrx::farm::v1;

constexpr int kMaxMessageBytes = 5 << 20;

// `pbrx farm status`: the status page's snapshot as a message.
class StatusService final : public fv::FarmStatus::Service {
 public:
  StatusService(std::function<StatusSnapshot()> snapshot,
                const common::Authorizer* authorizer)
      : snapshot_(std::move(snapshot)), authorizer_(authorizer) {}

  grpc::Status GetStatus(grpc::ServerContext* context,
                         const fv::GetStatusRequest*,
                         fv::GetStatusResponse* out) override {
    if (absl::Status denied =
            common::Authorize(authorizer_, *context, common::Permission::kRead,
                              "FarmStatus.GetStatus");
        !denied.ok()) {
      return common::ToGrpcStatus(denied);
    }
    *out = ToFarmStatus(snapshot_());
    return grpc::Status::OK;
  }

 private:
  std::function<StatusSnapshot()> snapshot_;
  const common::Authorizer* authorizer_;
};

}  // namespace

struct CoordinatorServer::Services {
  std::unique_ptr<cache::CacheMetrics> proxy_metrics;
  std::unique_ptr<cache::CapabilitiesService> capabilities;
  std::unique_ptr<cache::CasService> cas;
  std::unique_ptr<cache::ActionCacheService> ac;
  std::unique_ptr<cache::ByteStreamService> bytestream;
  std::unique_ptr<ExecutionService> execution;
  std::unique_ptr<WorkerService> worker;
  std::unique_ptr<StatusService> status;
  std::unique_ptr<BuildService> build;
};

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Create(
    const CoordinatorServerOptions& options, common::Clock* clock) {
  RETURN_IF_ERROR(common::ValidateServerLimits(options.limits));
  common::ChannelOptions channel_options;
  channel_options.tls = options.cache_tls;
  channel_options.token = options.cache_token;
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   common::MakeChannel(options.cache, channel_options));
  std::unique_ptr<CoordinatorServer> s(new CoordinatorServer());
  ASSIGN_OR_RETURN(s->endpoint_,
                   common::SecureEndpoint(options.listen, options.security));
  const common::Authorizer* auth = s->endpoint_.authorizer.get();
  s->options_ = options;
  s->clock_ = clock;
  s->registry_ = std::make_shared<prometheus::Registry>();
  s->metrics_ = std::make_unique<CoordinatorMetrics>(*s->registry_);
  s->scheduler_ =
      std::make_unique<Scheduler>(clock, options.scheduler, s->metrics_.get());
  cache::GrpcCacheOptions co;
  s->remote_cas_ = std::make_unique<cache::GrpcBlobStore>(channel, co);
  s->cas_ = s->remote_cas_.get();
  if (options.small_blobs.max_total_bytes > 0) {
    s->small_blobs_ = std::make_unique<cache::SmallBlobCache>(
        s->remote_cas_.get(), clock, options.small_blobs);
    s->cas_ = s->small_blobs_.get();
  }
  s->ac_ = std::make_unique<cache::GrpcActionCache>(channel, co);

  auto sv = std::make_unique<Services>();
  sv->proxy_metrics = std::make_unique<cache::CacheMetrics>(
      *s->registry_, "pbrx_coordinator_cache");
  cache::CapabilitiesOptions caps;
  caps.authorizer = auth;
  caps.exec_enabled = true;
  sv->capabilities = std::make_unique<cache::CapabilitiesService>(
      caps, sv->proxy_metrics.get());
  cache::CasServiceOptions cas;
  cas.authorizer = auth;
  sv->cas = std::make_unique<cache::CasService>(s->cas_,
                                                sv->proxy_metrics.get(), cas);
  cache::ActionCacheServiceOptions ac;
  ac.authorizer = auth;
  sv->ac = std::make_unique<cache::ActionCacheService>(
      s->ac_.get(), sv->proxy_metrics.get(), ac);
  s->streams_ = std::make_unique<common::StreamLimiter>(
      common::MaxLongStreams(options.limits),
      options.limits.max_streams_per_peer);
  common::StreamLimiter* streams = s->streams_.get();
  cache::ByteStreamServiceOptions bs;
  bs.authorizer = auth;
  bs.streams = streams;
  sv->bytestream = std::make_unique<cache::ByteStreamService>(
      s->cas_, sv->proxy_metrics.get(), clock, bs);
  sv->execution = std::make_unique<ExecutionService>(
      s->scheduler_.get(), s->cas_, s->ac_.get(), s->metrics_.get(),
      absl::Seconds(30), auth, streams);
  sv->worker = std::make_unique<WorkerService>(
      s->scheduler_.get(), s->cas_, s->ac_.get(),
      options.scheduler.heartbeat_interval, auth, streams);
  sv->status = std::make_unique<StatusService>(
      [raw = s.get()] { return raw->Snapshot(); }, auth);
  BuildServiceOptions bo;
  bo.authorizer = auth;
  bo.streams = streams;
  bo.max_parallel_projects = options.max_parallel_projects;
  bo.build_timeout = options.build_timeout;
  s->tracker_ = std::make_unique<BuildTracker>();
  bo.tracker = s->tracker_.get();
  sv->build = std::make_unique<BuildService>(
      s->scheduler_.get(), s->cas_, s->ac_.get(), s->metrics_.get(), clock, bo);
  s->services_ = std::move(sv);
  return s;
}

absl::Status CoordinatorServer::Start() {
  ASSIGN_OR_RETURN(common::GrpcEndpoint endpoint,
                   common::StartGrpcServer(
                       options_.listen,
                       {services_->capabilities.get(), services_->cas.get(),
                        services_->ac.get(), services_->bytestream.get(),
                        services_->execution.get(), services_->worker.get(),
                        services_->status.get(), services_->build.get()},
                       kMaxMessageBytes, common::kMaxBuildEventBytes,
                       endpoint_.credentials, options_.limits));
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
    collector_ =
        std::make_shared<SchedulerCollector>(scheduler_.get(), metrics_.get());
    metrics_endpoint_.exposer->RegisterCollectable(collector_);
    if (small_blobs_ != nullptr) {
      small_blob_collector_ =
          std::make_shared<SmallBlobCacheCollector>(small_blobs_.get());
      metrics_endpoint_.exposer->RegisterCollectable(small_blob_collector_);
    }
  }
  if (!options_.http_listen.empty()) {
    absl::StatusOr<std::unique_ptr<StatusPageServer>> page =
        StatusPageServer::Start(options_.http_listen,
                                [this] { return Snapshot(); });
    if (!page.ok()) {
      server_->Shutdown();
      server_.reset();
      return page.status();
    }
    status_page_ = std::move(*page);
    http_address_ = status_page_->address();
  }
  ticker_ = std::thread([this] {
    while (!stop_ticking_.WaitForNotificationWithTimeout(absl::Seconds(1))) {
      scheduler_->Tick();
    }
  });
  return absl::OkStatus();
}

void CoordinatorServer::Shutdown(absl::Duration deadline) {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + deadline));
    server_->Wait();
  }
  stop_ticking_.Notify();
  if (ticker_.joinable()) ticker_.join();
  status_page_.reset();
  metrics_endpoint_.exposer.reset();
  collector_.reset();
  server_.reset();
  services_.reset();
}

CoordinatorServer::~CoordinatorServer() { Shutdown(absl::Seconds(5)); }

}  // namespace pbrx::coordinator

namespace pbrx::coordinator {

StatusSnapshot CoordinatorServer::Snapshot() {
  StatusSnapshot s;
  s.version = kVersion;
  s.cache = options_.cache;
  s.scheduler = scheduler_->Stats();
  s.builds_in_flight = metrics_->builds_in_flight();
  s.cache_hits = static_cast<int64_t>(metrics_->StepCount("cache_hit"));
  s.joined = static_cast<int64_t>(metrics_->StepCount("joined"));
  s.executed = static_cast<int64_t>(metrics_->StepCount("executed"));
  s.failed = static_cast<int64_t>(metrics_->StepCount("failed"));
  s.retried = static_cast<int64_t>(metrics_->RetryCount());
  s.builds = tracker_->Builds();
  s.failures = tracker_->Failures();
  s.now = clock_->Now();
  s.wall = absl::Now();
  return s;
}

}  // namespace pbrx::coordinator
