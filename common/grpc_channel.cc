#include "common/grpc_channel.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/flag_parser.h"
#include "common/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/client_interceptor.h"

namespace pbrx::common {
namespace {

// Adds the bearer token to every call's initial metadata.
class TokenInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit TokenInterceptor(const std::string* header) : header_(*header) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                PRE_SEND_INITIAL_METADATA)) {
      m->GetSendInitialMetadata()->emplace("authorization", header_);
    }
    m->Proceed();
  }

 private:
  const std::string& header_;
};

class TokenInterceptorFactory
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit TokenInterceptorFactory(const std::string& token)
      : header_("Bearer " + token) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new TokenInterceptor(&header_);
  }

 private:
  const std::string header_;
};

bool IsTokenText(absl::string_view t) {
  if (t.empty()) return false;
  for (char c : t) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> ChannelTarget(const std::string& url) {
  std::string rest = url;
  if (absl::StartsWith(url, "grpc://")) {
    rest = url.substr(7);
  } else if (absl::StartsWith(url, "grpcs://")) {
    rest = url.substr(8);
  } else if (absl::StrContains(url, "://")) {
    return absl::InvalidArgumentError(
        absl::StrCat(url, ": expected grpc://HOST:PORT or grpcs://HOST:PORT"));
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find(':') == std::string::npos ||
      rest.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(url, ": expected grpc://HOST:PORT or grpcs://HOST:PORT"));
  }
  return rest;
}

bool IsTlsUrl(const std::string& url) {
  return absl::StartsWith(url, "grpcs://");
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& url, const ChannelOptions& options) {
  ASSIGN_OR_RETURN(std::string target, ChannelTarget(url));
  std::shared_ptr<grpc::ChannelCredentials> creds;
  const ClientTls& tls = options.tls;
  if (IsTlsUrl(url)) {
    ASSIGN_OR_RETURN(creds, MakeTlsCredentials(tls));
  } else if (tls.any()) {
    return absl::InvalidArgumentError(absl::StrCat(
        url, ": --tls-ca, --tls-cert and --tls-key need a grpcs:// URL"));
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_bytes);
  args.SetMaxSendMessageSize(options.max_send_bytes);
  if (options.keepalive > absl::ZeroDuration()) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
                static_cast<int>(absl::ToInt64Milliseconds(options.keepalive)));
  }
  if (options.token.empty())
    return grpc::CreateCustomChannel(target, creds, args);
  if (!IsTokenText(options.token)) {
    return absl::InvalidArgumentError(
        "the token holds characters a header cannot carry");
  }
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<TokenInterceptorFactory>(options.token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      target, creds, args, std::move(interceptors));
}

absl::Status LoadTokenFile(const std::string& file, std::string* token) {
  if (file.empty()) return absl::OkStatus();
  const std::string flag = "--token-file";
  ASSIGN_OR_RETURN(std::string text, ReadFlagFile(flag, file, 64 << 10));
  std::string first(
      absl::StripAsciiWhitespace(text.substr(0, text.find('\n'))));
  if (first.size() > 4096 || !IsTokenText(first)) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " ", file,
        ": the first line must be the token (1 to 4096 visible ASCII "
        "characters)"));
  }
  *token = std::move(first);
  return absl::OkStatus();
}

}  // namespace pbrx::common
