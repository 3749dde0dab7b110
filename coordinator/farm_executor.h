// Running actions on the farm from inside the coordinator.
//
// AdmitAction: what the coordinator checks before queueing an action: the
// Action and Command parse, and the Action, Command and every input blob are
// in the CAS, checked with one FindMissing (else FAILED_PRECONDITION with
// MISSING violations, as REAPI's Execute reports them). Returns the platform
// and timeout to schedule with.
//
// FarmExecutor: an ActionExecutor whose actions run on executors through
// the Scheduler: a run of the same action in flight is joined; else the
// Action Cache, then the deferred upload (ExecuteOptions::upload), then
// admission, then queue and wait. The coordinator's builds run the image
// pipeline over it, so a farm build runs exactly the steps of an embedded one.
#ifndef PBRX_COORDINATOR_FARM_EXECUTOR_H_
#define PBRX_COORDINATOR_FARM_EXECUTOR_H_

#include <functional>
#include <string>

#include "absl/time/time.h"
#include "cache/action_cache.h"
#include "cache/blob_store.h"
#include "common/action_executor.h"
#include "coordinator/coordinator_metrics.h"
#include "coordinator/scheduler.h"

namespace pbrx::coordinator {

// An Action and Command larger than this together are not sent with the
// lease (the executor reads them from the CAS).
inline constexpr size_t kMaxLeaseMessageBytes = 256 * 1024;

struct AdmittedAction {
  build::bazel::remote::execution::v2::Action action;
  // Platform, timeout and do_not_cache from the Action (and Command), and
  // both messages for the lease; the caller adds the group, kind and
  // skip_cache_lookup.
  SubmitOptions submit;
};

// `known_action` / `known_command` (optional): the messages, when the
// caller has them in hand (ExecuteOptions); each is used instead of a read
// only when it hashes to its digest.
absl::StatusOr<AdmittedAction> AdmitAction(
    cache::BlobStore& cas, const common::Digest& action,
    const build::bazel::remote::execution::v2::Action* known_action = nullptr,
    const build::bazel::remote::execution::v2::Command* known_command =
        nullptr);

// A cached result as an outcome (and the metrics for it).
common::ActionOutcome CachedOutcome(
    const build::bazel::remote::execution::v2::ActionResult& result);

class FarmExecutor : public common::ActionExecutor {
 public:
  // `group` is the fairness group of every action run through this object
  // (one build). All pointers must outlive it.
  // `stop` (optional) is asked before and while waiting: once it answers
  // an error (the client went away: CANCELLED; the build's deadline passed:
  // DEADLINE_EXCEEDED), the wait ends with it and the action is released
  // (dropped if no other build wants it).
  FarmExecutor(Scheduler* scheduler, cache::BlobStore* cas,
               cache::ActionCache* ac, CoordinatorMetrics* metrics,
               std::string group, std::function<absl::Status()> stop = nullptr)
      : scheduler_(scheduler),
        cas_(cas),
        ac_(ac),
        metrics_(metrics),
        group_(std::move(group)),
        stop_(std::move(stop)) {}

  absl::StatusOr<common::ActionOutcome> Run(
      const common::Digest& action_digest,
      const common::ExecuteOptions& options) override;
  bool TakesDeferredUploads() const override { return true; }

 private:
  Scheduler* scheduler_;
  cache::BlobStore* cas_;
  cache::ActionCache* ac_;
  CoordinatorMetrics* metrics_;
  std::string group_;
  std::function<absl::Status()> stop_;
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_FARM_EXECUTOR_H_
