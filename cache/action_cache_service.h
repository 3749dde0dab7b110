// REAPI ActionCache service over an ActionCache (normally the completeness-
// checking decorator, so a hit never names an evicted blob).
#ifndef PBRX_CACHE_ACTION_CACHE_SERVICE_H_
#define PBRX_CACHE_ACTION_CACHE_SERVICE_H_

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/action_cache.h"
#include "cache/cache_metrics.h"
#include "common/authorizer.h"

namespace pbrx::cache {

// The Action Cache key of `action` under `instance_name`: the digest itself
// for the default instance "", else a digest derived from both. Entries
// written under one instance name are invisible under another, so tenants
// scoped by --auth-tokens prefixes can neither read nor poison each other's
// results. (Executed actions are recorded under the digest itself by the
// coordinator, which only trusted executors' results reach.)
Digest ActionCacheKey(absl::string_view instance_name, const Digest& action);

struct ActionCacheServiceOptions {
  // Who may call what (common/authorizer.h); nullptr: everyone.
  const common::Authorizer* authorizer = nullptr;
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

  // The methods' work, whichever gRPC API calls it: the sync overrides
  // below (the coordinator's proxy) and CallbackActionCacheService
  // (pbrx-cache, cache/callback_services.h).
  grpc::Status ServeGetActionResult(
      const grpc::ServerContextBase& context,
      const build::bazel::remote::execution::v2::GetActionResultRequest&
          request,
      build::bazel::remote::execution::v2::ActionResult* response);
  grpc::Status ServeUpdateActionResult(
      const grpc::ServerContextBase& context,
      const build::bazel::remote::execution::v2::UpdateActionResultRequest&
          request,
      build::bazel::remote::execution::v2::ActionResult* response);

  grpc::Status GetActionResult(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::GetActionResultRequest*
          request,
      build::bazel::remote::execution::v2::ActionResult* response) override {
    return ServeGetActionResult(*context, *request, response);
  }
  grpc::Status UpdateActionResult(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::UpdateActionResultRequest*
          request,
      build::bazel::remote::execution::v2::ActionResult* response) override {
    return ServeUpdateActionResult(*context, *request, response);
  }

 private:
  ActionCache* cache_;
  CacheMetrics* metrics_;
  ActionCacheServiceOptions options_;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_ACTION_CACHE_SERVICE_H_
