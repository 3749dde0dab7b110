// InMemoryActionCache: an unbounded ActionCache in a hash map, for tests and
// embedded use.
#ifndef PBRX_CACHE_IN_MEMORY_ACTION_CACHE_H_
#define PBRX_CACHE_IN_MEMORY_ACTION_CACHE_H_

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "cache/action_cache.h"

namespace pbrx::cache {

class InMemoryActionCache : public ActionCache {
 public:
  absl::StatusOr<ActionResult> Get(const common::Digest& action) override;
  absl::Status Update(const common::Digest& action,
                      const ActionResult& result) override;
  absl::Status Remove(const common::Digest& action) override;

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<common::Digest, ActionResult> results_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_IN_MEMORY_ACTION_CACHE_H_
