// pbrx-cache's REAPI unary methods on gRPC's callback API. Each call runs
// on the thread that read it and answers at once: no hand-off to a sync
// server thread (on a busy cache, that hand-off and its futex wake-ups were
// the larger part of the CPU a small call cost). The work itself is
// CasService's and ActionCacheService's; GetTree, a server stream, stays
// sync. Only for stores that answer without waiting on another server: the
// coordinator's proxy (a GrpcBlobStore) keeps the sync services.
#ifndef PBRX_CACHE_CALLBACK_SERVICES_H_
#define PBRX_CACHE_CALLBACK_SERVICES_H_

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/action_cache_service.h"
#include "cache/cas_service.h"

namespace pbrx::cache {

namespace callback_internal {
namespace re = build::bazel::remote::execution::v2;
using CasBase =
    re::ContentAddressableStorage::WithCallbackMethod_FindMissingBlobs<
        re::ContentAddressableStorage::WithCallbackMethod_BatchUpdateBlobs<
            re::ContentAddressableStorage::WithCallbackMethod_BatchReadBlobs<
                re::ContentAddressableStorage::Service>>>;
}  // namespace callback_internal

class CallbackCasService final : public callback_internal::CasBase {
 public:
  explicit CallbackCasService(CasService* cas) : cas_(cas) {}

  grpc::ServerUnaryReactor* FindMissingBlobs(
      grpc::CallbackServerContext* context,
      const build::bazel::remote::execution::v2::FindMissingBlobsRequest*
          request,
      build::bazel::remote::execution::v2::FindMissingBlobsResponse* response)
      override;
  grpc::ServerUnaryReactor* BatchUpdateBlobs(
      grpc::CallbackServerContext* context,
      const build::bazel::remote::execution::v2::BatchUpdateBlobsRequest*
          request,
      build::bazel::remote::execution::v2::BatchUpdateBlobsResponse* response)
      override;
  grpc::ServerUnaryReactor* BatchReadBlobs(
      grpc::CallbackServerContext* context,
      const build::bazel::remote::execution::v2::BatchReadBlobsRequest* request,
      build::bazel::remote::execution::v2::BatchReadBlobsResponse* response)
      override;
  grpc::Status GetTree(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::GetTreeRequest* request,
      grpc::ServerWriter<build::bazel::remote::execution::v2::GetTreeResponse>*
          writer) override;

 private:
  CasService* cas_;
};

class CallbackActionCacheService final
    : public build::bazel::remote::execution::v2::ActionCache::CallbackService {
 public:
  explicit CallbackActionCacheService(ActionCacheService* ac) : ac_(ac) {}

  grpc::ServerUnaryReactor* GetActionResult(
      grpc::CallbackServerContext* context,
      const build::bazel::remote::execution::v2::GetActionResultRequest*
          request,
      build::bazel::remote::execution::v2::ActionResult* response) override;
  grpc::ServerUnaryReactor* UpdateActionResult(
      grpc::CallbackServerContext* context,
      const build::bazel::remote::execution::v2::UpdateActionResultRequest*
          request,
      build::bazel::remote::execution::v2::ActionResult* response) override;

 private:
  ActionCacheService* ac_;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_CALLBACK_SERVICES_H_
