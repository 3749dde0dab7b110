#include "executor/shared_executor.h"

#include "absl/strings/str_cat.h"

namespace pbrx::executor {

absl::StatusOr<common::ActionOutcome> InflightDedupExecutor::Run(
    const common::Digest& action_digest, const common::ExecuteOptions& options) {
  const bool skip_cache_lookup = options.skip_cache_lookup;
  const std::string key =
      absl::StrCat(action_digest.ToString(), skip_cache_lookup ? "!" : "");
  std::shared_ptr<Call> call;
  bool owner = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = inflight_.find(key);
    if (it == inflight_.end()) {
      call = std::make_shared<Call>();
      inflight_.emplace(key, call);
      owner = true;
    } else {
      call = it->second;
      ++joined_;
    }
  }
  if (owner) {
    absl::StatusOr<common::ActionOutcome> outcome = inner_->Run(action_digest, options);
    absl::MutexLock lock(&mu_);
    call->outcome = outcome;
    call->done = true;
    inflight_.erase(key);
    return outcome;
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&call->done));
  absl::StatusOr<common::ActionOutcome> shared = call->outcome;
  if (shared.ok()) shared->joined = true;
  return shared;
}

int64_t InflightDedupExecutor::joined() const {
  absl::MutexLock lock(&mu_);
  return joined_;
}

absl::StatusOr<common::ActionOutcome> BoundedExecutor::Run(
    const common::Digest& action_digest, const common::ExecuteOptions& options) {
  {
    absl::MutexLock lock(&mu_);
    const int64_t ticket = next_ticket_++;
    auto my_turn = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return serving_ == ticket && running_ < limit_;
    };
    mu_.Await(absl::Condition(&my_turn));
    ++serving_;
    ++running_;
    if (running_ > peak_) peak_ = running_;
  }
  absl::StatusOr<common::ActionOutcome> outcome = inner_->Run(action_digest, options);
  absl::MutexLock lock(&mu_);
  --running_;
  return outcome;
}

int BoundedExecutor::peak() const {
  absl::MutexLock lock(&mu_);
  return peak_;
}

}  // namespace pbrx::executor
