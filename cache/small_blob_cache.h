// SmallBlobCache: a BlobStore in front of another (the coordinator's, in
// front of the remote cache) that keeps recently written or read small
// blobs (Directories, Actions, Commands, Trees, small outputs) in memory, so
// the many steps of a fleet's builds that build the same input trees and
// read the same outputs do not each pay a round trip.
//
// - Reads of a held blob are served from memory (the bytes were verified
//   against their digest when they came in).
// - A write of a held blob whose presence in the base store was confirmed
//   within `confirm_ttl` (written, read, or reported present) sends nothing;
//   otherwise it is written through.
// - FindMissing always asks the base store; a blob the base lost (evicted)
//   while its bytes are held here is written again and not reported
//   missing. So a check of an action's inputs through this store is true of
//   the base store when it returns.
// Large blobs, ranged reads of unheld blobs, Delete and Stats go straight
// to the base store. Memory is bounded by `max_total_bytes` (least recently
// used blobs are dropped first). Thread-safe.
#ifndef PBRX_CACHE_SMALL_BLOB_CACHE_H_
#define PBRX_CACHE_SMALL_BLOB_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cache/blob_store.h"
#include "common/clock.h"

namespace pbrx::cache {

struct SmallBlobCacheOptions {
  // Blobs up to this size are held.
  int64_t max_blob_bytes = 64 * 1024;
  // Sum of held blob sizes.
  int64_t max_total_bytes = int64_t{64} << 20;
  // How long a confirmed presence in the base store lets a write be
  // skipped. The base store's own LRU keeps a blob touched this recently
  // unless it turns over its whole capacity within this time.
  absl::Duration confirm_ttl = absl::Minutes(5);
};

struct SmallBlobCacheStats {
  int64_t blobs = 0, bytes = 0;
  int64_t read_hits = 0, read_misses = 0;
  int64_t writes_skipped = 0, writes_sent = 0;
  int64_t restored = 0;  // rewritten by FindMissing after the base lost them
};

class SmallBlobCache : public BlobStore {
 public:
  SmallBlobCache(BlobStore* base, common::Clock* clock,
                 const SmallBlobCacheOptions& options);

  absl::StatusOr<std::vector<Digest>> FindMissing(
      absl::Span<const Digest> digests) override;
  absl::StatusOr<std::unique_ptr<BlobReader>> OpenRead(const Digest& digest,
                                                       int64_t offset,
                                                       int64_t limit) override;
  absl::StatusOr<std::unique_ptr<BlobWriter>> OpenWrite(
      const Digest& digest) override;
  // Confirmed held blobs are skipped; the others go to the base store in
  // one WriteBlobs and are held.
  absl::Status WriteBlobs(absl::Span<const BlobBytes> blobs) override;
  absl::Status Delete(const Digest& digest) override;
  BlobStoreStats Stats() override { return base_->Stats(); }

  SmallBlobCacheStats CacheStats();

 private:
  struct Entry {
    std::shared_ptr<const std::string> bytes;
    absl::Time confirmed;
    std::list<Digest>::iterator lru;
  };

  // Whether blobs of this digest's size are held at all.
  bool Holds(const Digest& digest) const;
  // The held bytes of `digest` (and a bump in the LRU order), or null.
  std::shared_ptr<const std::string> Lookup(const Digest& digest);
  // Holds `bytes` (already verified) as `digest`, present in the base store
  // as of now, and returns the held bytes.
  std::shared_ptr<const std::string> Hold(const Digest& digest,
                                          std::string bytes);
  // Marks a held blob as present in the base store at `now`.
  void ConfirmLocked(const Digest& digest, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True when `digest` is held and its presence confirmed within the TTL.
  bool Confirmed(const Digest& digest);
  // Called by the writer's Commit with the verified bytes.
  absl::Status CommitSmall(const Digest& digest, std::string bytes);
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  BlobStore* const base_;
  common::Clock* const clock_;
  const SmallBlobCacheOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<Digest, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<Digest> lru_ ABSL_GUARDED_BY(mu_);  // front: most recent
  SmallBlobCacheStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_SMALL_BLOB_CACHE_H_
