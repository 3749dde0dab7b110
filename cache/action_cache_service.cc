#include "cache/action_cache_service.h"

#include "absl/strings/str_cat.h"
#include "cache/resource_name.h"
#include "common/authorizer.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace pbrx::cache {

namespace re = build::bazel::remote::execution::v2;

Digest ActionCacheKey(absl::string_view instance_name, const Digest& action) {
  if (instance_name.empty()) return action;
  return Digest::Of(absl::StrCat("pbrx action cache key\n", instance_name, "\n",
                                 action.ToString()));
}

grpc::Status ActionCacheService::ServeGetActionResult(
    const grpc::ServerContextBase& context,
    const re::GetActionResultRequest& request, re::ActionResult* response) {
  auto run = [&]() -> absl::Status {
    RETURN_IF_ERROR(common::Authorize(
        options_.authorizer, context, common::Permission::kRead,
        "ActionCache.GetActionResult", request.instance_name()));
    RETURN_IF_ERROR(ValidateInstanceName(request.instance_name()));
    absl::StatusOr<Digest> action = Digest::FromProto(request.action_digest());
    if (!action.ok()) return common::Annotate(action.status(), "action_digest");
    absl::StatusOr<ActionResult> result =
        cache_->Get(ActionCacheKey(request.instance_name(), *action));
    if (result.status().code() == absl::StatusCode::kNotFound) {
      metrics_->RecordActionCacheLookup(false);
    } else if (result.ok()) {
      metrics_->RecordActionCacheLookup(true);
      *response = std::move(*result);
    }
    return result.status();
  };
  absl::Status status = run();
  metrics_->RecordRequest("GetActionResult", status.code());
  return common::ToGrpcStatus(status);
}

grpc::Status ActionCacheService::ServeUpdateActionResult(
    const grpc::ServerContextBase& context,
    const re::UpdateActionResultRequest& request, re::ActionResult* response) {
  auto run = [&]() -> absl::Status {
    RETURN_IF_ERROR(common::Authorize(
        options_.authorizer, context, common::Permission::kAcWrite,
        "ActionCache.UpdateActionResult", request.instance_name()));
    if (!options_.allow_updates) {
      return absl::PermissionDeniedError(
          "this cache does not accept action results from clients");
    }
    RETURN_IF_ERROR(ValidateInstanceName(request.instance_name()));
    absl::StatusOr<Digest> action = Digest::FromProto(request.action_digest());
    if (!action.ok()) return common::Annotate(action.status(), "action_digest");
    RETURN_IF_ERROR(
        cache_->Update(ActionCacheKey(request.instance_name(), *action),
                       request.action_result()));
    *response = request.action_result();
    return absl::OkStatus();
  };
  absl::Status status = run();
  metrics_->RecordRequest("UpdateActionResult", status.code());
  return common::ToGrpcStatus(status);
}

}  // namespace pbrx::cache
