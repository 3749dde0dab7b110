// StreamVerifier checks, while bytes stream past, that they add up to an
// expected Digest: never more bytes than the size, and at the end exactly the
// size and the same SHA-256. Shared by every BlobStore's writer.
#ifndef PBRX_CACHE_STREAM_VERIFIER_H_
#define PBRX_CACHE_STREAM_VERIFIER_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/sha256.h"

namespace pbrx::cache {

class StreamVerifier {
 public:
  explicit StreamVerifier(common::Digest expected)
      : expected_(std::move(expected)) {}

  // INVALID_ARGUMENT once the total exceeds the expected size.
  absl::Status Update(absl::string_view data) {
    if (written_ + static_cast<int64_t>(data.size()) > expected_.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "blob ", expected_.ToString(), " received more than ",
          expected_.size(), " bytes (",
          written_ + static_cast<int64_t>(data.size()), " so far)"));
    }
    written_ += static_cast<int64_t>(data.size());
    sha_.Update(data);
    return absl::OkStatus();
  }

  // INVALID_ARGUMENT when the size or the hash does not match. Call once.
  absl::Status Finish() {
    if (written_ != expected_.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "blob ", expected_.ToString(), " is incomplete: received ", written_,
          " of ", expected_.size(), " bytes"));
    }
    std::string actual = sha_.FinishHex();
    if (actual != expected_.hash()) {
      return absl::InvalidArgumentError(
          absl::StrCat("blob content hashes to ", actual,
                       ", not to the digest's ", expected_.hash()));
    }
    return absl::OkStatus();
  }

  int64_t written() const { return written_; }

 private:
  common::Digest expected_;
  common::Sha256 sha_;
  int64_t written_ = 0;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_STREAM_VERIFIER_H_
