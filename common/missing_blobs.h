// The REAPI way to say "these blobs are missing": FAILED_PRECONDITION with a
// google.rpc.PreconditionFailure detail holding one violation of type
// "MISSING" and subject "blobs/{hash}/{size}" per blob. The detail travels as
// an absl::Status payload; common/grpc_status turns payloads into gRPC error
// details.
#ifndef PBRX_COMMON_MISSING_BLOBS_H_
#define PBRX_COMMON_MISSING_BLOBS_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "common/digest.h"

namespace pbrx::common {

inline constexpr char kPreconditionFailureTypeUrl[] =
    "type.googleapis.com/google.rpc.PreconditionFailure";

// FAILED_PRECONDITION "{context}: N blob(s) missing from the CAS: h/s ..."
// (the message lists at most a few) with the PreconditionFailure payload.
absl::Status MissingBlobsError(absl::Span<const Digest> missing,
                               absl::string_view context);

// The digests named by a status built with MissingBlobsError (empty for any
// other status).
std::vector<Digest> MissingBlobsOf(const absl::Status& status);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_MISSING_BLOBS_H_
