#include "common/grpc_channel.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace pbrx::common {

absl::StatusOr<std::string> ChannelTarget(const std::string& url) {
  std::string rest = url;
  if (absl::StartsWith(url, "grpc://")) {
    rest = url.substr(7);
  } else if (absl::StrContains(url, "://")) {
    return absl::InvalidArgumentError(
        absl::StrCat(url, ": expected grpc://HOST:PORT"));
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find(':') == std::string::npos ||
      rest.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(url, ": expected grpc://HOST:PORT"));
  }
  return rest;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& url, const ChannelOptions& options) {
  ASSIGN_OR_RETURN(std::string target, ChannelTarget(url));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_bytes);
  args.SetMaxSendMessageSize(options.max_send_bytes);
  if (options.keepalive > absl::ZeroDuration()) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
                static_cast<int>(absl::ToInt64Milliseconds(options.keepalive)));
  }
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

}  // namespace pbrx::common
