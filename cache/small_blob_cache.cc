#include "cache/small_blob_cache.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "cache/buffered_blob_writer.h"
#include "cache/memory_blob_reader.h"
#include "common/status_macros.h"

namespace pbrx::cache {

SmallBlobCache::SmallBlobCache(BlobStore* base, common::Clock* clock,
                               const SmallBlobCacheOptions& options)
    : base_(base), clock_(clock), options_(options) {}

bool SmallBlobCache::Holds(const Digest& digest) const {
  return digest.size() > 0 && digest.size() <= options_.max_blob_bytes &&
         digest.size() <= options_.max_total_bytes;
}

std::shared_ptr<const std::string> SmallBlobCache::Lookup(
    const Digest& digest) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(digest);
  if (it == entries_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.bytes;
}

std::shared_ptr<const std::string> SmallBlobCache::Hold(const Digest& digest,
                                                        std::string bytes) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(digest);
  if (it != entries_.end()) {
    it->second.confirmed = now;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.bytes;
  }
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  lru_.push_front(digest);
  entries_.emplace(digest, Entry{shared, now, lru_.begin()});
  stats_.bytes += digest.size();
  ++stats_.blobs;
  EvictLocked();
  return shared;
}

void SmallBlobCache::EvictLocked() {
  while (stats_.bytes > options_.max_total_bytes && !lru_.empty()) {
    const Digest victim = lru_.back();
    lru_.pop_back();
    entries_.erase(victim);
    stats_.bytes -= victim.size();
    --stats_.blobs;
  }
}

void SmallBlobCache::ConfirmLocked(const Digest& digest, absl::Time now) {
  auto it = entries_.find(digest);
  if (it != entries_.end()) it->second.confirmed = now;
}

bool SmallBlobCache::Confirmed(const Digest& digest) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(digest);
  if (it == entries_.end()) return false;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return now - it->second.confirmed < options_.confirm_ttl;
}

absl::StatusOr<std::vector<Digest>> SmallBlobCache::FindMissing(
    absl::Span<const Digest> digests) {
  ASSIGN_OR_RETURN(std::vector<Digest> missing, base_->FindMissing(digests));
  const absl::flat_hash_set<Digest> absent(missing.begin(), missing.end());
  {
    const absl::Time now = clock_->Now();
    absl::MutexLock lock(&mu_);
    for (const Digest& d : digests) {
      if (!absent.contains(d)) ConfirmLocked(d, now);
    }
  }
  // What the base store lost while its bytes are held here goes back, in
  // one batch.
  std::vector<Digest> still_missing;
  std::vector<std::shared_ptr<const std::string>> held;
  std::vector<BlobBytes> restore;
  for (const Digest& d : missing) {
    std::shared_ptr<const std::string> bytes = Lookup(d);
    if (bytes == nullptr) {
      still_missing.push_back(d);
      continue;
    }
    restore.push_back({d, *bytes});
    held.push_back(std::move(bytes));
  }
  if (!restore.empty()) {
    RETURN_IF_ERROR(base_->WriteBlobs(restore));
    const absl::Time now = clock_->Now();
    absl::MutexLock lock(&mu_);
    for (const BlobBytes& b : restore) ConfirmLocked(b.digest, now);
    stats_.restored += static_cast<int64_t>(restore.size());
  }
  return still_missing;
}

absl::StatusOr<std::unique_ptr<BlobReader>> SmallBlobCache::OpenRead(
    const Digest& digest, int64_t offset, int64_t limit) {
  if (!Holds(digest)) return base_->OpenRead(digest, offset, limit);
  std::shared_ptr<const std::string> bytes = Lookup(digest);
  if (bytes == nullptr) {
    if (offset != 0 || limit != 0) {
      return base_->OpenRead(digest, offset, limit);
    }
    ASSIGN_OR_RETURN(std::string read, ReadBlob(*base_, digest));
    if (Digest::Of(read) != digest) {
      return absl::DataLossError(absl::StrCat("blob ", digest.ToString(),
                                              " came back with other bytes"));
    }
    bytes = Hold(digest, std::move(read));
    absl::MutexLock lock(&mu_);
    ++stats_.read_misses;
  } else {
    absl::MutexLock lock(&mu_);
    ++stats_.read_hits;
  }
  const int64_t size = static_cast<int64_t>(bytes->size());
  if (offset < 0 || limit < 0) {
    return absl::InvalidArgumentError("negative read offset or limit");
  }
  if (offset > size) {
    return absl::OutOfRangeError(absl::StrCat(
        "offset ", offset, " is past the end of ", digest.ToString()));
  }
  const int64_t end = limit == 0 ? size : std::min(size, offset + limit);
  return std::unique_ptr<BlobReader>(std::make_unique<MemoryBlobReader>(
      std::move(bytes), static_cast<size_t>(offset), static_cast<size_t>(end)));
}

absl::StatusOr<std::unique_ptr<BlobWriter>> SmallBlobCache::OpenWrite(
    const Digest& digest) {
  if (!Holds(digest)) return base_->OpenWrite(digest);
  return std::unique_ptr<BlobWriter>(std::make_unique<BufferedBlobWriter>(
      digest, [this, digest](std::string bytes) {
        return CommitSmall(digest, std::move(bytes));
      }));
}

absl::Status SmallBlobCache::CommitSmall(const Digest& digest,
                                         std::string bytes) {
  if (Confirmed(digest)) {
    absl::MutexLock lock(&mu_);
    ++stats_.writes_skipped;
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(WriteBlob(*base_, digest, bytes));
  Hold(digest, std::move(bytes));
  absl::MutexLock lock(&mu_);
  ++stats_.writes_sent;
  return absl::OkStatus();
}

absl::Status SmallBlobCache::WriteBlobs(absl::Span<const BlobBytes> blobs) {
  std::vector<BlobBytes> send;
  int64_t skipped = 0;
  for (const BlobBytes& b : blobs) {
    if (Holds(b.digest)) {
      if (static_cast<int64_t>(b.bytes.size()) != b.digest.size() ||
          Digest::Of(b.bytes) != b.digest) {
        return absl::InvalidArgumentError(absl::StrCat(
            "blob ", b.digest.ToString(), ": the bytes have another digest"));
      }
      if (Confirmed(b.digest)) {
        ++skipped;
        continue;
      }
    }
    send.push_back(b);
  }
  if (!send.empty()) RETURN_IF_ERROR(base_->WriteBlobs(send));
  int64_t sent = 0;
  for (const BlobBytes& b : send) {
    if (!Holds(b.digest)) continue;
    Hold(b.digest, std::string(b.bytes));
    ++sent;
  }
  absl::MutexLock lock(&mu_);
  stats_.writes_skipped += skipped;
  stats_.writes_sent += sent;
  return absl::OkStatus();
}

absl::Status SmallBlobCache::Delete(const Digest& digest) {
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(digest);
    if (it != entries_.end()) {
      lru_.erase(it->second.lru);
      entries_.erase(it);
      stats_.bytes -= digest.size();
      --stats_.blobs;
    }
  }
  return base_->Delete(digest);
}

SmallBlobCacheStats SmallBlobCache::CacheStats() {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace pbrx::cache
