// REAPI ContentAddressableStorage service over a BlobStore: FindMissingBlobs,
// BatchUpdateBlobs, BatchReadBlobs, GetTree. Parses and validates requests,
// calls the store, fills replies; no storage logic lives here.
#ifndef PBRX_CACHE_CAS_SERVICE_H_
#define PBRX_CACHE_CAS_SERVICE_H_

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/blob_store.h"
#include "cache/cache_metrics.h"
#include "common/authorizer.h"

namespace pbrx::cache {

// GetTree pages stay well under gRPC's message limits.
inline constexpr int64_t kMaxTreePageBytes = 2 << 20;

struct CasServiceOptions {
  // Who may call what (common/authorizer.h); nullptr: everyone.
  const common::Authorizer* authorizer = nullptr;
  // Upper bound on the sum of blob sizes in one batch request or reply.
  int64_t max_batch_total_size_bytes = 4 << 20;
  // Directories per GetTree reply page when the client asks for none; a
  // page also ends before it would pass kMaxTreePageBytes.
  int default_tree_page_size = 1000;
  // A tree with more directories than this is refused (FAILED_PRECONDITION)
  // instead of walked.
  int64_t max_tree_directories = int64_t{1} << 20;
};

class CasService final : public build::bazel::remote::execution::v2::
                             ContentAddressableStorage::Service {
 public:
  CasService(BlobStore* store, CacheMetrics* metrics,
             const CasServiceOptions& options)
      : store_(store), metrics_(metrics), options_(options) {}

  // The unary methods' work, whichever gRPC API calls it: the sync
  // overrides below (the coordinator's proxy, whose store blocks on the
  // cache) and CallbackCasService (pbrx-cache, cache/callback_services.h).
  grpc::Status ServeFindMissingBlobs(
      const grpc::ServerContextBase& context,
      const build::bazel::remote::execution::v2::FindMissingBlobsRequest&
          request,
      build::bazel::remote::execution::v2::FindMissingBlobsResponse* response);
  grpc::Status ServeBatchUpdateBlobs(
      const grpc::ServerContextBase& context,
      const build::bazel::remote::execution::v2::BatchUpdateBlobsRequest&
          request,
      build::bazel::remote::execution::v2::BatchUpdateBlobsResponse* response);
  grpc::Status ServeBatchReadBlobs(
      const grpc::ServerContextBase& context,
      const build::bazel::remote::execution::v2::BatchReadBlobsRequest& request,
      build::bazel::remote::execution::v2::BatchReadBlobsResponse* response);

  grpc::Status FindMissingBlobs(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::FindMissingBlobsRequest*
          request,
      build::bazel::remote::execution::v2::FindMissingBlobsResponse* response)
      override {
    return ServeFindMissingBlobs(*context, *request, response);
  }
  grpc::Status BatchUpdateBlobs(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::BatchUpdateBlobsRequest*
          request,
      build::bazel::remote::execution::v2::BatchUpdateBlobsResponse* response)
      override {
    return ServeBatchUpdateBlobs(*context, *request, response);
  }
  grpc::Status BatchReadBlobs(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::BatchReadBlobsRequest* request,
      build::bazel::remote::execution::v2::BatchReadBlobsResponse* response)
      override {
    return ServeBatchReadBlobs(*context, *request, response);
  }
  grpc::Status GetTree(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::GetTreeRequest* request,
      grpc::ServerWriter<build::bazel::remote::execution::v2::GetTreeResponse>*
          writer) override;

 private:
  grpc::Status Finish(absl::string_view method, const absl::Status& status);

  BlobStore* store_;
  CacheMetrics* metrics_;
  CasServiceOptions options_;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_CAS_SERVICE_H_
