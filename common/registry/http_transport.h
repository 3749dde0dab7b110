// HttpTransport: one HTTP exchange, the seam between the registry protocol
// (common/registry/registry_client.h) and the network. The protocol logic
// (auth challenges, upload sessions, retries) is tested over a scripted
// fake; CurlTransport (curl_transport.h) is the real one.
//
// A transport does not retry, does not add credentials and does not follow
// redirects of anything but GET and HEAD.
#ifndef PBRX_COMMON_REGISTRY_HTTP_TRANSPORT_H_
#define PBRX_COMMON_REGISTRY_HTTP_TRANSPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace pbrx::common::registry {

struct HttpRequest {
  std::string method;  // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string url;     // absolute http:// or https:// URL
  std::vector<std::pair<std::string, std::string>> headers;
  // The body: `body`, or when body_file is set, body_length bytes of that
  // file from body_offset.
  std::string body;
  std::string body_file;
  int64_t body_offset = 0;
  int64_t body_length = 0;
  // A longer response body fails the exchange (RESOURCE_EXHAUSTED).
  int64_t max_response_bytes = 16 << 20;
  // When set, the response body is written to this file instead of `body`
  // (no cap but the caller's).
  std::string response_file;
};

struct HttpResponse {
  int status = 0;
  // Header names in lower case, in the order received (of the last
  // response when redirects were followed).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t body_bytes = 0;  // received (also when written to a file)

  // The first header of that (lower-case) name, "" when absent.
  std::string Header(const std::string& name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // OK with any HTTP status; UNAVAILABLE for a connection that failed or
  // broke (refused, reset, timed out, TLS handshake), naming the URL and the
  // cause; FAILED_PRECONDITION for a server certificate that is not trusted;
  // RESOURCE_EXHAUSTED for an oversized response; INVALID_ARGUMENT for a URL
  // that is not http(s). Thread-safe.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace pbrx::common::registry

#endif  // PBRX_COMMON_REGISTRY_HTTP_TRANSPORT_H_
