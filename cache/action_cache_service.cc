#include "cache/action_cache_service.h"

#include "cache/resource_name.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace pbrx::cache {

namespace re = build::bazel::remote::execution::v2;

grpc::Status ActionCacheService::GetActionResult(
    grpc::ServerContext*, const re::GetActionResultRequest* request,
    re::ActionResult* response) {
  auto run = [&]() -> absl::Status {
    RETURN_IF_ERROR(ValidateInstanceName(request->instance_name()));
    absl::StatusOr<Digest> action = Digest::FromProto(request->action_digest());
    if (!action.ok()) return common::Annotate(action.status(), "action_digest");
    absl::StatusOr<ActionResult> result = cache_->Get(*action);
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

grpc::Status ActionCacheService::UpdateActionResult(
    grpc::ServerContext*, const re::UpdateActionResultRequest* request,
    re::ActionResult* response) {
  auto run = [&]() -> absl::Status {
    if (!options_.allow_updates) {
      return absl::PermissionDeniedError(
          "this cache does not accept action results from clients");
    }
    RETURN_IF_ERROR(ValidateInstanceName(request->instance_name()));
    absl::StatusOr<Digest> action = Digest::FromProto(request->action_digest());
    if (!action.ok()) return common::Annotate(action.status(), "action_digest");
    RETURN_IF_ERROR(cache_->Update(*action, request->action_result()));
    *response = request->action_result();
    return absl::OkStatus();
  };
  absl::Status status = run();
  metrics_->RecordRequest("UpdateActionResult", status.code());
  return common::ToGrpcStatus(status);
}

}  // namespace pbrx::cache
