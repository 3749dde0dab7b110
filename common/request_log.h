// A debug line per RPC, with the REAPI RequestMetadata a client sends
// (Bazel: tool name and version, invocation id, action id):
//   request ActionCache.GetActionResult instance=main peer=ipv4:...
//   tool=bazel/4.2.3 invocation=1b2c... action=4f3e... mnemonic=Genrule
#ifndef PBRX_COMMON_REQUEST_LOG_H_
#define PBRX_COMMON_REQUEST_LOG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

namespace pbrx::common {

// The line's text after "request " (without the method), from the
// metadata header's serialized bytes (empty: none sent).
std::string DescribeRequestMetadata(absl::string_view serialized);

// Logs the call at debug level; nothing else is done when debug is off.
void LogRequest(const grpc::ServerContextBase& context,
                absl::string_view method, absl::string_view instance_name);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_REQUEST_LOG_H_
