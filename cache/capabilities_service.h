// REAPI Capabilities service: what this endpoint supports. For any valid
// instance name it answers API 2.0-2.1, SHA-256 only, Action Cache updates
// enabled, the batch size limit, and (when the endpoint also executes)
// execution capabilities.
#ifndef PBRX_CACHE_CAPABILITIES_SERVICE_H_
#define PBRX_CACHE_CAPABILITIES_SERVICE_H_

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/cache_metrics.h"
#include "common/authorizer.h"

namespace pbrx::cache {

struct CapabilitiesOptions {
  // Who may call what (common/authorizer.h); nullptr: everyone.
  const common::Authorizer* authorizer = nullptr;
  int64_t max_batch_total_size_bytes = 4 << 20;
  bool exec_enabled = false;
};

class CapabilitiesService final
    : public build::bazel::remote::execution::v2::Capabilities::Service {
 public:
  CapabilitiesService(const CapabilitiesOptions& options, CacheMetrics* metrics)
      : options_(options), metrics_(metrics) {}

  grpc::Status GetCapabilities(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::GetCapabilitiesRequest*
          request,
      build::bazel::remote::execution::v2::ServerCapabilities* response)
      override;

 private:
  CapabilitiesOptions options_;
  CacheMetrics* metrics_;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_CAPABILITIES_SERVICE_H_
