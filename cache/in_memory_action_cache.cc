#include "cache/in_memory_action_cache.h"

#include "absl/strings/str_cat.h"

namespace pbrx::cache {

absl::StatusOr<ActionResult> InMemoryActionCache::Get(
    const common::Digest& action) {
  absl::MutexLock lock(&mu_);
  auto it = results_.find(action);
  if (it == results_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no action result for ", action.ToString()));
  }
  return it->second;
}

absl::Status InMemoryActionCache::Update(const common::Digest& action,
                                         const ActionResult& result) {
  absl::MutexLock lock(&mu_);
  results_[action] = result;
  return absl::OkStatus();
}

absl::Status InMemoryActionCache::Remove(const common::Digest& action) {
  absl::MutexLock lock(&mu_);
  results_.erase(action);
  return absl::OkStatus();
}

}  // namespace pbrx::cache
