// The Worker API of the coordinator (proto/farm.proto): executors register,
// receive leases and cancellations, send heartbeats and completions. A
// completion's result is checked before anyone sees it: every blob it names
// must be in the CAS (else the executor is at fault and the action is
// retried elsewhere); a successful, cacheable result is then written to the
// Action Cache by the coordinator, never by the executor.
#ifndef PBRX_COORDINATOR_WORKER_SERVICE_H_
#define PBRX_COORDINATOR_WORKER_SERVICE_H_

#include "cache/action_cache.h"
#include "cache/blob_store.h"
#include "common/authorizer.h"
#include "common/stream_limiter.h"
#include "coordinator/scheduler.h"
#include "proto/farm.grpc.pb.h"

namespace pbrx::coordinator {

class WorkerService final : public pbrx::farm::v1::Worker::Service {
 public:
  WorkerService(Scheduler* scheduler, cache::BlobStore* cas,
                cache::ActionCache* ac, absl::Duration heartbeat_interval,
                const common::Authorizer* authorizer = nullptr,
                common::StreamLimiter* streams = nullptr)
      : scheduler_(scheduler),
        cas_(cas),
        ac_(ac),
        heartbeat_interval_(heartbeat_interval),
        authorizer_(authorizer),
        streams_(streams) {}

  grpc::Status Work(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<pbrx::farm::v1::CoordinatorMessage,
                               pbrx::farm::v1::WorkerMessage>* stream) override;

  // Handles one completion (public for tests).
  void HandleCompletion(const std::string& worker_id,
                        const std::string& worker_name,
                        const pbrx::farm::v1::Completion& completion);

 private:
  Scheduler* scheduler_;
  cache::BlobStore* cas_;
  cache::ActionCache* ac_;
  absl::Duration heartbeat_interval_;
  const common::Authorizer* authorizer_;  // nullptr: everyone
  common::StreamLimiter* streams_;        // nullptr: no bound
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_WORKER_SERVICE_H_
