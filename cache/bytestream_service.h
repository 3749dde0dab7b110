// google.bytestream.ByteStream over a BlobStore, as the REAPI uses it:
// Read of "{instance}/blobs/{hash}/{size}" with read_offset/read_limit, and
// Write of "{instance}/uploads/{uuid}/blobs/{hash}/{size}" streamed into a
// verifying BlobWriter. An upload interrupted before finish_write stays open
// (bounded: at most max_idle_uploads, max_idle_uploads_per_peer from one
// host, each for upload_idle_timeout) so the
// client can ask QueryWriteStatus and resume at committed_size. Writing a
// blob that is already stored returns committed_size = size at once.
#ifndef PBRX_CACHE_BYTESTREAM_SERVICE_H_
#define PBRX_CACHE_BYTESTREAM_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "cache/blob_store.h"
#include "cache/cache_metrics.h"
#include "common/authorizer.h"
#include "common/clock.h"
#include "common/stream_limiter.h"
#include "google/bytestream/bytestream.grpc.pb.h"

namespace pbrx::cache {

struct ByteStreamServiceOptions {
  // Who may call what (common/authorizer.h); nullptr: everyone.
  const common::Authorizer* authorizer = nullptr;
  // Bound on open Read and Write streams (nullptr: none).
  common::StreamLimiter* streams = nullptr;
  int max_idle_uploads = 64;
  // One host's idle uploads beyond this push out its own oldest, never
  // another host's; at the total bound the host holding most loses one.
  int max_idle_uploads_per_peer = 16;
  absl::Duration upload_idle_timeout = absl::Minutes(10);
};

class ByteStreamService final : public google::bytestream::ByteStream::Service {
 public:
  ByteStreamService(BlobStore* store, CacheMetrics* metrics,
                    common::Clock* clock,
                    const ByteStreamServiceOptions& options)
      : store_(store), metrics_(metrics), clock_(clock), options_(options) {}

  grpc::Status Read(
      grpc::ServerContext* context,
      const google::bytestream::ReadRequest* request,
      grpc::ServerWriter<google::bytestream::ReadResponse>* writer) override;
  grpc::Status Write(
      grpc::ServerContext* context,
      grpc::ServerReader<google::bytestream::WriteRequest>* reader,
      google::bytestream::WriteResponse* response) override;
  grpc::Status QueryWriteStatus(
      grpc::ServerContext* context,
      const google::bytestream::QueryWriteStatusRequest* request,
      google::bytestream::QueryWriteStatusResponse* response) override;

  // Uploads currently open (streaming or waiting to be resumed).
  int open_uploads();

 private:
  struct Upload {
    std::unique_ptr<BlobWriter> writer;
    bool busy = false;                  // guarded by the service's mu_
    absl::Time last_used;               // guarded by the service's mu_
    std::string host;                   // the peer host that opened it
    std::atomic<int64_t> committed{0};  // bytes accepted so far
  };

  absl::Status DoRead(
      grpc::ServerContext* context,
      const google::bytestream::ReadRequest& request,
      grpc::ServerWriter<google::bytestream::ReadResponse>* writer);
  absl::Status DoWrite(
      grpc::ServerContext* context,
      grpc::ServerReader<google::bytestream::WriteRequest>* reader,
      google::bytestream::WriteResponse* response);
  // Takes the upload for `resource` exclusively, creating it if needed.
  absl::StatusOr<std::shared_ptr<Upload>> AcquireUpload(
      const std::string& host, const std::string& resource,
      const Digest& digest, int64_t write_offset);
  void ReleaseUpload(const std::string& resource, bool keep);
  // Drops expired idle uploads and makes room for one more of `host`.
  void ExpireIdleLocked(const std::string& host)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  BlobStore* store_;
  CacheMetrics* metrics_;
  common::Clock* clock_;
  ByteStreamServiceOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Upload>> uploads_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_BYTESTREAM_SERVICE_H_
