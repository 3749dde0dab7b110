// MemoryBlobReader: a BlobReader over bytes held in memory (shared, so the
// holder may drop them while a read is in progress), from `begin` to `end`
// in pieces of at most 1 MiB.
#ifndef PBRX_CACHE_MEMORY_BLOB_READER_H_
#define PBRX_CACHE_MEMORY_BLOB_READER_H_

#include <algorithm>
#include <memory>
#include <string>

#include "cache/blob_store.h"

namespace pbrx::cache {

class MemoryBlobReader : public BlobReader {
 public:
  MemoryBlobReader(std::shared_ptr<const std::string> content, size_t begin,
                   size_t end)
      : content_(std::move(content)), pos_(begin), end_(end) {}

  absl::StatusOr<bool> Next(std::string* out) override {
    constexpr size_t kPieceSize = 1 << 20;
    out->clear();
    if (pos_ >= end_) return false;
    size_t n = std::min(kPieceSize, end_ - pos_);
    out->assign(content_->data() + pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::shared_ptr<const std::string> content_;
  size_t pos_;
  size_t end_;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_MEMORY_BLOB_READER_H_
