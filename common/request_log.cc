#include "common/request_log.h"

#include "absl/strings/str_cat.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "common/logging.h"

namespace pbrx::common {
namespace {

constexpr char kRequestMetadataHeader[] =
    "build.bazel.remote.execution.v2.requestmetadata-bin";
constexpr size_t kMaxField = 128;  // a client's text, shortened in logs

std::string Clean(absl::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxField)) {
    out += (c > 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

}  // namespace

std::string DescribeRequestMetadata(absl::string_view serialized) {
  if (serialized.empty()) return "";
  build::bazel::remote::execution::v2::RequestMetadata md;
  if (!md.ParseFromArray(serialized.data(),
                         static_cast<int>(serialized.size()))) {
    return " metadata=unreadable";
  }
  std::string out;
  if (!md.tool_details().tool_name().empty()) {
    absl::StrAppend(&out, " tool=", Clean(md.tool_details().tool_name()));
    if (!md.tool_details().tool_version().empty())
      absl::StrAppend(&out, "/", Clean(md.tool_details().tool_version()));
  }
  if (!md.tool_invocation_id().empty())
    absl::StrAppend(&out, " invocation=", Clean(md.tool_invocation_id()));
  if (!md.correlated_invocations_id().empty())
    absl::StrAppend(&out,
                    " correlated=", Clean(md.correlated_invocations_id()));
  if (!md.action_id().empty())
    absl::StrAppend(&out, " action=", Clean(md.action_id()));
  if (!md.action_mnemonic().empty())
    absl::StrAppend(&out, " mnemonic=", Clean(md.action_mnemonic()));
  return out;
}

void LogRequest(const grpc::ServerContextBase& context,
                absl::string_view method, absl::string_view instance_name) {
  if (!LogEnabled(LogSeverity::kDebug)) return;
  const auto& headers = context.client_metadata();
  auto h = headers.find(kRequestMetadataHeader);
  absl::string_view md;
  if (h != headers.end())
    md = absl::string_view(h->second.data(), h->second.size());
  LogDebug("request ", method, " instance=", Clean(instance_name),
           " peer=", context.peer(), DescribeRequestMetadata(md));
}

}  // namespace pbrx::common
