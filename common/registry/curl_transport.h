// CurlTransport: HttpTransport over libcurl (one easy handle per exchange,
// so it is thread-safe). http and https only, also across redirects; TLS
// verified against the system CAs plus an optional extra CA file; a
// connection that moves less than 1 byte/s for `stall_timeout` is dropped.
#ifndef PBRX_COMMON_REGISTRY_CURL_TRANSPORT_H_
#define PBRX_COMMON_REGISTRY_CURL_TRANSPORT_H_

#include <string>

#include "absl/time/time.h"
#include "common/registry/http_transport.h"

namespace pbrx::common::registry {

struct CurlTransportOptions {
  std::string extra_ca_file;  // PEM, trusted beside the system CAs
  absl::Duration connect_timeout = absl::Seconds(30);
  absl::Duration stall_timeout = absl::Seconds(60);
  std::string user_agent;
};

class CurlTransport : public HttpTransport {
 public:
  explicit CurlTransport(CurlTransportOptions options)
      : options_(std::move(options)) {}
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  CurlTransportOptions options_;
};

}  // namespace pbrx::common::registry

#endif  // PBRX_COMMON_REGISTRY_CURL_TRANSPORT_H_
