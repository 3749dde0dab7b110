#include "cache/in_memory_blob_store.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "cache/buffered_blob_writer.h"
#include "cache/memory_blob_reader.h"
#include "common/sha256.h"

namespace pbrx::cache {

absl::StatusOr<std::vector<Digest>> InMemoryBlobStore::FindMissing(
    absl::Span<const Digest> digests) {
  std::vector<Digest> missing;
  absl::flat_hash_set<Digest> seen;
  absl::MutexLock lock(&mu_);
  for (const Digest& d : digests) {
    if (d.size() == 0 && d == Digest::Empty()) continue;
    if (!blobs_.contains(d) && seen.insert(d).second) missing.push_back(d);
  }
  return missing;
}

absl::StatusOr<std::unique_ptr<BlobReader>> InMemoryBlobStore::OpenRead(
    const Digest& digest, int64_t offset, int64_t limit) {
  if (offset < 0 || limit < 0) {
    return absl::InvalidArgumentError("read offset and limit must be >= 0");
  }
  std::shared_ptr<const std::string> content;
  if (digest == Digest::Empty()) {
    content = std::make_shared<const std::string>();
  } else {
    absl::MutexLock lock(&mu_);
    auto it = blobs_.find(digest);
    if (it == blobs_.end()) {
      return absl::NotFoundError(
          absl::StrCat("blob ", digest.ToString(), " not found"));
    }
    content = it->second;
  }
  if (common::Sha256::HexOf(*content) != digest.hash()) {
    Delete(digest).IgnoreError();
    return absl::DataLossError(absl::StrCat(
        "stored blob ", digest.ToString(), " is corrupt and has been dropped"));
  }
  if (offset > digest.size()) {
    return absl::OutOfRangeError(absl::StrCat("read offset ", offset,
                                              " is past the end of blob ",
                                              digest.ToString()));
  }
  int64_t end = digest.size();
  if (limit > 0 && offset + limit < end) end = offset + limit;
  return std::make_unique<MemoryBlobReader>(std::move(content),
                                            static_cast<size_t>(offset),
                                            static_cast<size_t>(end));
}

absl::StatusOr<std::unique_ptr<BlobWriter>> InMemoryBlobStore::OpenWrite(
    const Digest& digest) {
  return std::make_unique<BufferedBlobWriter>(
      digest, [this, digest](std::string bytes) {
        Insert(digest, std::move(bytes));
        return absl::OkStatus();
      });
}

void InMemoryBlobStore::Insert(const Digest& digest, std::string content) {
  if (digest.size() == 0) return;  // the empty blob is implicit
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = blobs_.try_emplace(digest, nullptr);
  if (inserted) {
    it->second = std::make_shared<const std::string>(std::move(content));
    bytes_ += digest.size();
  }
}

absl::Status InMemoryBlobStore::Delete(const Digest& digest) {
  absl::MutexLock lock(&mu_);
  if (blobs_.erase(digest) > 0) bytes_ -= digest.size();
  return absl::OkStatus();
}

BlobStoreStats InMemoryBlobStore::Stats() {
  absl::MutexLock lock(&mu_);
  BlobStoreStats stats;
  stats.blobs = static_cast<int64_t>(blobs_.size());
  stats.bytes = bytes_;
  return stats;
}

absl::Status InMemoryBlobStore::CorruptForTesting(const Digest& digest) {
  absl::MutexLock lock(&mu_);
  auto it = blobs_.find(digest);
  if (it == blobs_.end()) return absl::NotFoundError(digest.ToString());
  std::string copy = *it->second;
  if (!copy.empty()) copy[0] = static_cast<char>(copy[0] ^ 0xff);
  it->second = std::make_shared<const std::string>(std::move(copy));
  return absl::OkStatus();
}

}  // namespace pbrx::cache
