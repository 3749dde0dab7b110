#include "cache/capabilities_service.h"

#include "cache/resource_name.h"
#include "common/authorizer.h"
#include "common/grpc_status.h"

namespace pbrx::cache {

namespace re = build::bazel::remote::execution::v2;

grpc::Status CapabilitiesService::GetCapabilities(
    grpc::ServerContext* context, const re::GetCapabilitiesRequest* request,
    re::ServerCapabilities* response) {
  absl::Status status = common::Authorize(options_.authorizer, *context,
                                          common::Permission::kRead,
                                          "Capabilities.GetCapabilities");
  if (status.ok()) status = ValidateInstanceName(request->instance_name());
  if (status.ok()) {
    auto* cache = response->mutable_cache_capabilities();
    cache->add_digest_function(re::DigestFunction::SHA256);
    cache->mutable_action_cache_update_capabilities()->set_update_enabled(true);
    cache->set_max_batch_total_size_bytes(options_.max_batch_total_size_bytes);
    cache->set_symlink_absolute_path_strategy(
        re::SymlinkAbsolutePathStrategy::DISALLOWED);
    if (options_.exec_enabled) {
      auto* exec = response->mutable_execution_capabilities();
      exec->set_digest_function(re::DigestFunction::SHA256);
      exec->set_exec_enabled(true);
    }
    response->mutable_low_api_version()->set_major(2);
    response->mutable_low_api_version()->set_minor(0);
    response->mutable_high_api_version()->set_major(2);
    response->mutable_high_api_version()->set_minor(1);
  }
  metrics_->RecordRequest("GetCapabilities", status.code());
  return common::ToGrpcStatus(status);
}

}  // namespace pbrx::cache
