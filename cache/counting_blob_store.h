// CountingBlobStore (tests): an InMemoryBlobStore that counts what reaches
// it, i.e. the round trips a remote store would cost: FindMissing and
// OpenRead calls, OpenWrite calls (single or streamed writes) and the
// blobs of each WriteBlobs batch.
#ifndef PBRX_CACHE_COUNTING_BLOB_STORE_H_
#define PBRX_CACHE_COUNTING_BLOB_STORE_H_

#include <memory>
#include <vector>

#include "cache/blob_store.h"
#include "cache/in_memory_blob_store.h"

namespace pbrx::cache {

class CountingBlobStore : public BlobStore {
 public:
  absl::StatusOr<std::vector<Digest>> FindMissing(
      absl::Span<const Digest> digests) override {
    ++finds;
    return store.FindMissing(digests);
  }
  absl::StatusOr<std::unique_ptr<BlobReader>> OpenRead(const Digest& digest,
                                                       int64_t offset,
                                                       int64_t limit) override {
    ++reads;
    return store.OpenRead(digest, offset, limit);
  }
  absl::StatusOr<std::unique_ptr<BlobWriter>> OpenWrite(
      const Digest& digest) override {
    ++writes;
    return store.OpenWrite(digest);
  }
  absl::Status WriteBlobs(absl::Span<const BlobBytes> blobs) override {
    batch_sizes.push_back(static_cast<int>(blobs.size()));
    return store.WriteBlobs(blobs);
  }
  absl::Status Delete(const Digest& digest) override {
    return store.Delete(digest);
  }
  BlobStoreStats Stats() override { return store.Stats(); }

  InMemoryBlobStore store;  // the blobs; use it directly to look unseen
  int finds = 0, reads = 0, writes = 0;
  std::vector<int> batch_sizes;  // blobs per WriteBlobs call
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_COUNTING_BLOB_STORE_H_
