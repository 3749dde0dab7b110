// REAPI Execution service of the coordinator: Execute and WaitExecution.
// Execute answers an Action Cache hit at once (cached_result), refuses an
// action whose inputs are not in the CAS (FAILED_PRECONDITION with MISSING
// violations), else queues or joins it in the Scheduler and streams
// Operations: metadata (ExecuteOperationMetadata with stage QUEUED or
// EXECUTING) whenever the stage changes and every `keepalive`, then the
// final Operation with the ExecuteResponse. A client that goes away
// releases its interest (a queued action nobody else wants is dropped).
// WaitExecution streams the same for an operation name from Execute.
#ifndef PBRX_COORDINATOR_EXECUTION_SERVICE_H_
#define PBRX_COORDINATOR_EXECUTION_SERVICE_H_

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/action_cache.h"
#include "cache/blob_store.h"
#include "common/authorizer.h"
#include "common/stream_limiter.h"
#include "coordinator/coordinator_metrics.h"
#include "coordinator/scheduler.h"

namespace pbrx::coordinator {

class ExecutionService final
    : public build::bazel::remote::execution::v2::Execution::Service {
 public:
  ExecutionService(Scheduler* scheduler, cache::BlobStore* cas,
                   cache::ActionCache* ac, CoordinatorMetrics* metrics,
                   absl::Duration keepalive = absl::Seconds(30),
                   const common::Authorizer* authorizer = nullptr,
                   common::StreamLimiter* streams = nullptr)
      : scheduler_(scheduler),
        cas_(cas),
        ac_(ac),
        metrics_(metrics),
        keepalive_(keepalive),
        authorizer_(authorizer),
        streams_(streams) {}

  grpc::Status Execute(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::ExecuteRequest* request,
      grpc::ServerWriter<google::longrunning::Operation>* writer) override;
  grpc::Status WaitExecution(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::WaitExecutionRequest* request,
      grpc::ServerWriter<google::longrunning::Operation>* writer) override;

 private:
  // Streams `op` until it completes or the client goes away.
  grpc::Status Follow(grpc::ServerContext* context,
                      const std::shared_ptr<Operation>& op,
                      grpc::ServerWriter<google::longrunning::Operation>* w);

  Scheduler* scheduler_;
  cache::BlobStore* cas_;
  cache::ActionCache* ac_;
  CoordinatorMetrics* metrics_;
  absl::Duration keepalive_;
  const common::Authorizer* authorizer_;  // nullptr: everyone
  common::StreamLimiter* streams_;        // nullptr: no bound
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_EXECUTION_SERVICE_H_
