// BufferedBlobWriter: a BlobWriter for stores that keep a blob whole: it
// buffers the bytes, verifies them against the digest (StreamVerifier) and
// hands the verified bytes to `commit` once. Not thread-safe.
#ifndef PBRX_CACHE_BUFFERED_BLOB_WRITER_H_
#define PBRX_CACHE_BUFFERED_BLOB_WRITER_H_

#include <functional>
#include <string>
#include <utility>

#include "cache/blob_store.h"
#include "cache/stream_verifier.h"

namespace pbrx::cache {

class BufferedBlobWriter : public BlobWriter {
 public:
  BufferedBlobWriter(const Digest& digest,
                     std::function<absl::Status(std::string)> commit)
      : verifier_(digest), commit_(std::move(commit)) {}

  absl::Status Append(absl::string_view data) override {
    if (!status_.ok()) return status_;
    status_ = verifier_.Update(data);
    if (status_.ok()) buffer_.append(data.data(), data.size());
    return status_;
  }

  absl::Status Commit() override {
    if (!status_.ok()) return status_;
    status_ = verifier_.Finish();
    if (!status_.ok()) return status_;
    absl::Status s = commit_(std::move(buffer_));
    status_ = absl::FailedPreconditionError("writer already committed");
    return s;
  }

  int64_t bytes_written() const override { return verifier_.written(); }

 private:
  StreamVerifier verifier_;
  std::function<absl::Status(std::string)> commit_;
  std::string buffer_;
  absl::Status status_;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_BUFFERED_BLOB_WRITER_H_
