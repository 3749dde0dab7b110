// Decorators over an common::ActionExecutor that let many builds share one:
//
// InflightDedupExecutor: while an action digest is being executed, further
// calls for the same digest wait for that execution and get its outcome
// instead of running it again (the "join it" of the step model). Calls with
// skip_cache_lookup are never joined to calls without it.
//
// BoundedExecutor: at most `limit` executions run at once (`--jobs`); the
// others wait in arrival order.
#ifndef PBRX_EXECUTOR_SHARED_EXECUTOR_H_
#define PBRX_EXECUTOR_SHARED_EXECUTOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/action_executor.h"

namespace pbrx::executor {

class InflightDedupExecutor : public common::ActionExecutor {
 public:
  explicit InflightDedupExecutor(common::ActionExecutor* inner) : inner_(inner) {}

  absl::StatusOr<common::ActionOutcome> Run(const common::Digest& action_digest,
                                    const common::ExecuteOptions& options) override;

  // Calls answered by joining another call's execution.
  int64_t joined() const;

 private:
  struct Call {
    bool done = false;
    absl::StatusOr<common::ActionOutcome> outcome;
  };
  common::ActionExecutor* inner_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Call>> inflight_ ABSL_GUARDED_BY(mu_);
  int64_t joined_ ABSL_GUARDED_BY(mu_) = 0;
};

class BoundedExecutor : public common::ActionExecutor {
 public:
  BoundedExecutor(common::ActionExecutor* inner, int limit)
      : inner_(inner), limit_(limit < 1 ? 1 : limit) {}

  absl::StatusOr<common::ActionOutcome> Run(const common::Digest& action_digest,
                                    const common::ExecuteOptions& options) override;

  // Most executions seen running at once.
  int peak() const;

 private:
  common::ActionExecutor* inner_;
  const int limit_;
  mutable absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int peak_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t serving_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_SHARED_EXECUTOR_H_
