// RocksDbActionCache: the Action Cache in RocksDbStorage's `action_cache`
// column family (key: the action digest's 40-byte key; value: the serialized
// ActionResult). Entries are small and not evicted by size: a result whose
// blobs were evicted is turned into a miss (and removed) by
// CompletenessCheckingActionCache.
#ifndef PBRX_CACHE_ROCKSDB_ACTION_CACHE_H_
#define PBRX_CACHE_ROCKSDB_ACTION_CACHE_H_

#include "cache/action_cache.h"
#include "cache/rocksdb_storage.h"

namespace pbrx::cache {

class RocksDbActionCache : public ActionCache {
 public:
  // `storage` must outlive this object.
  explicit RocksDbActionCache(RocksDbStorage* storage) : storage_(storage) {}

  absl::StatusOr<ActionResult> Get(const common::Digest& action) override;
  absl::Status Update(const common::Digest& action,
                      const ActionResult& result) override;
  absl::Status Remove(const common::Digest& action) override;

 private:
  RocksDbStorage* storage_;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_ROCKSDB_ACTION_CACHE_H_
