// BlobStore and ActionCache over a remote REAPI cache (pbrx-cache, or any
// REAPI v2 server): FindMissingBlobs, ByteStream Read/Write, GetActionResult
// and UpdateActionResult on one channel. The coordinator and the executors
// use these to share one cache; the coordinator also serves its own CAS,
// ActionCache and ByteStream services on top of them, so REAPI clients need
// only its address.
//
// Differences from the local stores (allowed by the BlobStore contract's
// remote clause): Delete is UNIMPLEMENTED (REAPI has no delete), Stats are
// zero (the cache server reports its own). Every call has a deadline;
// transport failures are UNAVAILABLE/DEADLINE_EXCEEDED with the address.
#ifndef PBRX_CACHE_GRPC_CACHE_CLIENT_H_
#define PBRX_CACHE_GRPC_CACHE_CLIENT_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/action_cache.h"
#include "cache/blob_store.h"
#include "google/bytestream/bytestream.grpc.pb.h"
#include "grpcpp/channel.h"

namespace pbrx::cache {

struct GrpcCacheOptions {
  std::string instance_name;
  // Deadline of unary calls; streams get `stream_timeout` per blob.
  absl::Duration call_timeout = absl::Seconds(60);
  absl::Duration stream_timeout = absl::Minutes(30);
  // ByteStream write message size.
  int64_t chunk_size = 1 << 20;
};

class GrpcBlobStore : public BlobStore {
 public:
  GrpcBlobStore(std::shared_ptr<grpc::Channel> channel,
                const GrpcCacheOptions& options);

  absl::StatusOr<std::vector<Digest>> FindMissing(
      absl::Span<const Digest> digests) override;
  absl::StatusOr<std::unique_ptr<BlobReader>> OpenRead(const Digest& digest,
                                                       int64_t offset,
                                                       int64_t limit) override;
  absl::StatusOr<std::unique_ptr<BlobWriter>> OpenWrite(
      const Digest& digest) override;
  // Blobs up to 64 KiB go in BatchUpdateBlobs calls of up to 2 MiB each;
  // larger ones by ByteStream.
  absl::Status WriteBlobs(absl::Span<const BlobBytes> blobs) override;
  absl::Status Delete(const Digest& digest) override;
  BlobStoreStats Stats() override { return {}; }

 private:
  std::unique_ptr<
      build::bazel::remote::execution::v2::ContentAddressableStorage::Stub>
      cas_;
  std::unique_ptr<google::bytestream::ByteStream::Stub> bytestream_;
  GrpcCacheOptions options_;
};

class GrpcActionCache : public ActionCache {
 public:
  GrpcActionCache(std::shared_ptr<grpc::Channel> channel,
                  const GrpcCacheOptions& options);

  absl::StatusOr<ActionResult> Get(const common::Digest& action) override;
  absl::Status Update(const common::Digest& action,
                      const ActionResult& result) override;
  absl::Status Remove(const common::Digest& action) override;

 private:
  std::unique_ptr<build::bazel::remote::execution::v2::ActionCache::Stub> ac_;
  GrpcCacheOptions options_;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_GRPC_CACHE_CLIENT_H_
