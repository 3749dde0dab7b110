// REAPI ActionCache service over an ActionCache (normally the completeness-
// checking decorator, so a hit never names an evicted blob).
#ifndef PBRX_CACHE_ACTION_CACHE_SERVICE_H_
#define PBRX_CACHE_ACTION_CACHE_SERVICE_H_

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/action_cache.h"
#include "cache/cache_metrics.h"

namespace pbrx::cache {

struct ActionCacheServiceOptions {
  // When false, UpdateActionResult is refused with PERMISSION_DENIED (a
  // read-only cache for clients; executors write through another path).
  bool allow_updates = true;
};

class ActionCacheService final
    : public build::bazel::remote::execution::v2::ActionCache::Service {
 public:
  ActionCacheService(ActionCache* cache, CacheMetrics* metrics,
                     const ActionCacheServiceOptions& options)
      : cache_(cache), metrics_(metrics), options_(options) {}

  grpc::Status GetActionResult(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::GetActionResultRequest*
          request,
      build::bazel::remote::execution::v2::ActionResult* response) override;
  grpc::Status UpdateActionResult(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::UpdateActionResultRequest*
          request,
      build::bazel::remote::execution::v2::ActionResult* response) override;

 private:
  ActionCache* cache_;
  CacheMetrics* metrics_;
  ActionCacheServiceOptions options_;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_ACTION_CACHE_SERVICE_H_
