// ActionCache: action digest -> ActionResult, the REAPI Action Cache. Plain
// implementations store and return results; CompletenessCheckingActionCache
// (a decorator) makes sure a hit only names blobs that are still in the CAS.
// Instance names are not part of the key (one shared namespace).
#ifndef PBRX_CACHE_ACTION_CACHE_H_
#define PBRX_CACHE_ACTION_CACHE_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "common/digest.h"

namespace pbrx::cache {

using build::bazel::remote::execution::v2::ActionResult;

class ActionCache {
 public:
  virtual ~ActionCache() = default;
  // The stored result for `action`. NOT_FOUND on a miss. Thread-safe.
  virtual absl::StatusOr<ActionResult> Get(const common::Digest& action) = 0;
  // Stores (or replaces) the result for `action`. Thread-safe.
  virtual absl::Status Update(const common::Digest& action,
                              const ActionResult& result) = 0;
  // Removes the entry if present. OK either way.
  virtual absl::Status Remove(const common::Digest& action) = 0;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_ACTION_CACHE_H_
