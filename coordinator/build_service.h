// The Build API of the coordinator (proto/farm.proto): stages the uploaded
// projects, runs the image pipeline for each over a FarmExecutor (so every
// step is queued, joined or answered from the cache like any REAPI action),
// streams step and project events, keeps every image's blobs in the CAS and
// ends with the same JSON report as embedded mode. A client that goes away
// cancels its build: its queued steps are dropped unless another build
// waits for them too.
#ifndef PBRX_COORDINATOR_BUILD_SERVICE_H_
#define PBRX_COORDINATOR_BUILD_SERVICE_H_

#include <atomic>
#include <string>

#include "cache/action_cache.h"
#include "cache/blob_store.h"
#include "common/authorizer.h"
#include "common/clock.h"
#include "common/stream_limiter.h"
#include "coordinator/build_tracker.h"
#include "coordinator/coordinator_metrics.h"
#include "coordinator/image_pipeline.h"
#include "coordinator/scheduler.h"
#include "proto/farm.grpc.pb.h"

namespace pbrx::coordinator {

struct BuildServiceOptions {
  // Who may call what (common/authorizer.h); nullptr: everyone.
  const common::Authorizer* authorizer = nullptr;
  // Bound on open Build streams (nullptr: none).
  common::StreamLimiter* streams = nullptr;
  int max_parallel_projects = 8;
  // A build still running after this fails: its waiting steps are
  // released and each unfinished project reports the deadline.
  absl::Duration build_timeout = absl::Hours(12);
  // Told what each build does (the status page); nullptr: nobody.
  BuildTracker* tracker = nullptr;
};

class BuildService final : public pbrx::farm::v1::Build::Service {
 public:
  BuildService(Scheduler* scheduler, cache::BlobStore* cas,
               cache::ActionCache* ac, CoordinatorMetrics* metrics,
               common::Clock* clock, const BuildServiceOptions& options)
      : scheduler_(scheduler),
        cas_(cas),
        ac_(ac),
        metrics_(metrics),
        clock_(clock),
        options_(options),
        pipeline_(cas, nullptr) {}

  grpc::Status BuildImages(
      grpc::ServerContext* context, const pbrx::farm::v1::BuildRequest* request,
      grpc::ServerWriter<pbrx::farm::v1::BuildEvent>* writer) override;

 private:
  Scheduler* scheduler_;
  cache::BlobStore* cas_;
  cache::ActionCache* ac_;
  CoordinatorMetrics* metrics_;
  common::Clock* clock_;  // the --build-timeout deadline: monotonic
  BuildServiceOptions options_;
  ImagePipeline pipeline_;
  std::atomic<int64_t> next_build_{0};
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_BUILD_SERVICE_H_
