// InMemoryBlobStore: a BlobStore in process memory, unbounded. For unit tests
// and small embedded uses; it holds whole blobs, so it is not for multi-GiB
// data. Reads verify the blob's hash before returning anything.
#ifndef PBRX_CACHE_IN_MEMORY_BLOB_STORE_H_
#define PBRX_CACHE_IN_MEMORY_BLOB_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "cache/blob_store.h"

namespace pbrx::cache {

class InMemoryBlobStore : public BlobStore {
 public:
  InMemoryBlobStore() = default;

  absl::StatusOr<std::vector<Digest>> FindMissing(
      absl::Span<const Digest> digests) override;
  absl::StatusOr<std::unique_ptr<BlobReader>> OpenRead(const Digest& digest,
                                                       int64_t offset,
                                                       int64_t limit) override;
  absl::StatusOr<std::unique_ptr<BlobWriter>> OpenWrite(
      const Digest& digest) override;
  absl::Status Delete(const Digest& digest) override;
  BlobStoreStats Stats() override;

  // Test hook: flips the bytes of a stored blob so it no longer matches its
  // digest. NOT_FOUND if absent.
  absl::Status CorruptForTesting(const Digest& digest);

 private:
  void Insert(const Digest& digest, std::string content);

  absl::Mutex mu_;
  absl::flat_hash_map<Digest, std::shared_ptr<const std::string>> blobs_
      ABSL_GUARDED_BY(mu_);
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_IN_MEMORY_BLOB_STORE_H_
