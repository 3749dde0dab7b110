// RocksDbBlobStore: the durable, size-bounded BlobStore.
//
// Layout (column families of RocksDbStorage):
//   blob_meta       digest key -> {generation, last access, chunk size}
//   blob_chunks     generation (8 bytes BE) + chunk index (4 bytes BE)
//                   -> chunk bytes + CRC-32 of them (4 bytes BE)
//   blob_lru        last access (8 bytes BE, microseconds) + digest key -> ""
//   pending_uploads generation -> digest key, while an upload is open
// Every upload writes its chunks under a fresh generation number, so bytes of
// an unverified upload can never overwrite a visible blob. Commit verifies
// size and SHA-256 and then writes meta + LRU entry and removes the pending
// marker in one atomic batch; a crash before that leaves only chunks of a
// pending generation, which Open() deletes. Reads stream chunk by chunk
// (CRC-checked) and a read of the whole blob also checks the SHA-256 before
// handing out the last piece; a mismatch drops the blob and returns DATA_LOSS.
//
// Eviction: with max_size_bytes > 0, an upload reserves space as its bytes
// arrive (each chunk before it is written), evicting least-recently-
// accessed blobs first; blobs accessed within min_age are never evicted
// (RESOURCE_EXHAUSTED instead, and the upload is dropped). So the stored
// bytes plus the bytes uploads have written never exceed the bound, and an
// upload that claims a size but sends nothing evicts nothing. OpenWrite()
// only refuses a blob larger than the bound.
//
// It does not know about the Action Cache or REAPI; it is thread-safe.
#ifndef PBRX_CACHE_ROCKSDB_BLOB_STORE_H_
#define PBRX_CACHE_ROCKSDB_BLOB_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cache/blob_store.h"
#include "cache/rocksdb_storage.h"
#include "common/clock.h"

namespace pbrx::cache {

struct RocksDbBlobStoreOptions {
  // Upper bound on stored bytes (sum of blob sizes); 0 means unbounded.
  int64_t max_size_bytes = 0;
  // Blobs accessed more recently than this are never evicted.
  absl::Duration min_age = absl::Minutes(5);
  // Access times are refreshed at most this often per blob (saves a write
  // per read); eviction adds it to min_age so protection is never shortened.
  absl::Duration touch_granularity = absl::Seconds(10);
  // Size of stored chunks (and the largest piece a reader returns).
  int64_t chunk_size = 1 << 20;
};

class RocksDbBlobStore : public BlobStore {
 public:
  // `storage` and `clock` must outlive the store. Cleans up uploads a crash
  // left behind and loads the size accounting.
  static absl::StatusOr<std::unique_ptr<RocksDbBlobStore>> Create(
      RocksDbStorage* storage, common::Clock* clock,
      const RocksDbBlobStoreOptions& options);

  absl::StatusOr<std::vector<Digest>> FindMissing(
      absl::Span<const Digest> digests) override;
  absl::StatusOr<std::unique_ptr<BlobReader>> OpenRead(const Digest& digest,
                                                       int64_t offset,
                                                       int64_t limit) override;
  absl::StatusOr<std::unique_ptr<BlobWriter>> OpenWrite(
      const Digest& digest) override;
  absl::Status Delete(const Digest& digest) override;
  BlobStoreStats Stats() override;

  // Test hook: overwrites chunk `index` of a stored blob with bytes that do
  // not match its digest. With `keep_crc`, the chunk's CRC is recomputed so
  // only the SHA-256 check can notice.
  absl::Status CorruptChunkForTesting(const Digest& digest, uint32_t index,
                                      bool keep_crc);

  // Number of uploads currently open (tests of crash recovery use it).
  int64_t pending_uploads_for_testing();

 private:
  friend class RocksDbBlobWriter;
  friend class RocksDbBlobReader;

  struct Meta {
    uint64_t generation = 0;
    int64_t last_access_us = 0;
    uint32_t chunk_size = 0;
  };

  RocksDbBlobStore(RocksDbStorage* storage, common::Clock* clock,
                   const RocksDbBlobStoreOptions& options);
  absl::Status Recover();
  // `snapshot` (optional): read the meta as of it.
  absl::StatusOr<bool> GetMeta(const Digest& digest, Meta* meta,
                               const rocksdb::Snapshot* snapshot = nullptr);
  // Refreshes the access time of `digest` if it is older than the
  // granularity. Missing blobs are ignored.
  absl::Status Touch(const Digest& digest, const Meta& seen);
  absl::Status TouchMany(const std::vector<std::pair<Digest, Meta>>& seen);
  absl::Status ReserveLocked(int64_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DeleteLocked(const Digest& digest)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reserves `bytes` more for an upload (evicting as needed).
  absl::Status Reserve(int64_t bytes);
  // Both release the `reserved` bytes the upload's writer holds.
  absl::Status CommitUpload(const Digest& digest, uint64_t generation,
                            int64_t reserved);
  void AbortUpload(const Digest& digest, uint64_t generation, int64_t reserved);
  // Drops `digest` if its stored copy is still `generation`.
  void DropCorrupt(const Digest& digest, uint64_t generation);
  absl::Status PutChunk(uint64_t generation, uint32_t index,
                        absl::string_view data);

  RocksDbStorage* storage_;
  common::Clock* clock_;
  RocksDbBlobStoreOptions options_;
  std::atomic<uint64_t> next_generation_{1};

  absl::Mutex mu_;  // serialises meta/LRU changes and the accounting
  int64_t stored_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t stored_blobs_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reserved_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t evictions_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t pending_uploads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_ROCKSDB_BLOB_STORE_H_
