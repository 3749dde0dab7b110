// Digest: the identity of a blob in the content-addressed store, a SHA-256
// hash (64 lowercase hex characters) plus the blob's size in bytes. A Digest
// can only be built through the validating factories below, so holding one
// means it is well-formed. It says nothing about whether the blob exists.
#ifndef PBRX_COMMON_DIGEST_H_
#define PBRX_COMMON_DIGEST_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"

namespace pbrx::common {

class Digest {
 public:
  // Validates `hash` (exactly 64 lowercase hex characters) and `size` (>= 0).
  // INVALID_ARGUMENT with a message naming the problem otherwise.
  static absl::StatusOr<Digest> Create(absl::string_view hash, int64_t size);

  // Parses "hash/size" (the form used in ByteStream resource names and logs).
  static absl::StatusOr<Digest> Parse(absl::string_view text);

  // Validates a REAPI Digest message.
  static absl::StatusOr<Digest> FromProto(
      const build::bazel::remote::execution::v2::Digest& proto);

  // The digest of `content` (always valid).
  static Digest Of(absl::string_view content);

  // The digest of the empty blob.
  static Digest Empty();

  const std::string& hash() const { return hash_; }
  int64_t size() const { return size_; }

  // "hash/size".
  std::string ToString() const;
  build::bazel::remote::execution::v2::Digest ToProto() const;

  // 40 bytes: the raw 32-byte hash then the size as big-endian uint64. Used
  // as a compact, order-preserving storage key.
  std::string ToKey() const;
  // Inverse of ToKey(); INVALID_ARGUMENT for anything not produced by it.
  static absl::StatusOr<Digest> FromKey(absl::string_view key);

  bool operator==(const Digest& o) const {
    return size_ == o.size_ && hash_ == o.hash_;
  }
  bool operator!=(const Digest& o) const { return !(*this == o); }
  bool operator<(const Digest& o) const {
    return hash_ != o.hash_ ? hash_ < o.hash_ : size_ < o.size_;
  }

  template <typename H>
  friend H AbslHashValue(H h, const Digest& d) {
    return H::combine(std::move(h), d.hash_, d.size_);
  }

 private:
  Digest(std::string hash, int64_t size)
      : hash_(std::move(hash)), size_(size) {}

  std::string hash_;
  int64_t size_;
};

std::ostream& operator<<(std::ostream& os, const Digest& d);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_DIGEST_H_
