// CompletenessCheckingActionCache decorates an ActionCache so that:
// - Get() returns a hit only if every blob the result references (output
//   files, output directory trees and every file inside them, stdout and
//   stderr) is present in the CAS; otherwise the stale entry is removed and
//   the lookup is a miss (NOT_FOUND). Checking uses BlobStore::FindMissing,
//   which also refreshes the blobs' access time, so a hit keeps its blobs
//   alive.
// - Update() refuses (FAILED_PRECONDITION) a result that references blobs not
//   in the CAS, so the cache never stores a hit that cannot be downloaded. The
//   status carries the missing digests (common/missing_blobs.h).
#ifndef PBRX_CACHE_COMPLETENESS_CHECKING_ACTION_CACHE_H_
#define PBRX_CACHE_COMPLETENESS_CHECKING_ACTION_CACHE_H_

#include <vector>

#include "cache/action_cache.h"
#include "cache/blob_store.h"

namespace pbrx::cache {

// Every blob `result` references. Reads output-directory Tree blobs from
// `cas` to include their files. NOT_FOUND if a Tree blob is missing;
// INVALID_ARGUMENT if a digest in the result is malformed or a Tree blob does
// not parse.
absl::StatusOr<std::vector<Digest>> ReferencedBlobs(const ActionResult& result,
                                                    BlobStore& cas);

class CompletenessCheckingActionCache : public ActionCache {
 public:
  // Both must outlive this object.
  CompletenessCheckingActionCache(ActionCache* inner, BlobStore* cas)
      : inner_(inner), cas_(cas) {}

  absl::StatusOr<ActionResult> Get(const common::Digest& action) override;
  absl::Status Update(const common::Digest& action,
                      const ActionResult& result) override;
  absl::Status Remove(const common::Digest& action) override;

 private:
  ActionCache* inner_;
  BlobStore* cas_;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_COMPLETENESS_CHECKING_ACTION_CACHE_H_
