// The one place where absl::Status and grpc::Status meet. Payloads of an
// absl::Status whose type URL names a protobuf message (e.g. the
// PreconditionFailure of common/missing_blobs.h) become google.rpc.Status
// details in the gRPC trailers, as REAPI clients expect, and back.
#ifndef PBRX_COMMON_GRPC_STATUS_H_
#define PBRX_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace pbrx::common {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_GRPC_STATUS_H_
