// The one place where absl::Status and grpc::Status meet. Payloads of an
// absl::Status whose type URL names a protobuf message (e.g. the
// PreconditionFailure of common/missing_blobs.h) become google.rpc.Status
// details in the gRPC trailers, as REAPI clients expect, and back.
#ifndef PBRX_COMMON_GRPC_STATUS_H_
#define PBRX_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"

namespace pbrx::common {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// The same for a google.rpc.Status message (REAPI's ExecuteResponse.status,
// the worker API's Completion.status).
google::rpc::Status ToRpcStatus(const absl::Status& status);
absl::Status FromRpcStatus(const google::rpc::Status& status);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_GRPC_STATUS_H_
