#include "common/registry/curl_transport.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/beneath.h"

namespace pbrx::common::registry {
namespace {

struct Exchange {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  int body_fd = -1;  // request body from a file
  int64_t sent = 0;  // request body bytes handed to curl
  int out_fd = -1;   // response body to a file
  bool too_big = false;
  bool write_failed = false;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  absl::string_view line(data, size * n);
  line = absl::StripTrailingAsciiWhitespace(line);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response (after a redirect or a 100 Continue): forget the
    // headers of the one before.
    ex->response->headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    ex->response->headers.emplace_back(
        absl::AsciiStrToLower(line.substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t len = size * n;
  ex->response->body_bytes += static_cast<int64_t>(len);
  if (ex->out_fd >= 0) {
    size_t done = 0;
    while (done < len) {
      ssize_t w = write(ex->out_fd, data + done, len - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ex->write_failed = true;
        return 0;
      }
      done += static_cast<size_t>(w);
    }
    return len;
  }
  if (ex->response->body_bytes > ex->request->max_response_bytes) {
    ex->too_big = true;
    return 0;  // aborts the transfer
  }
  ex->response->body.append(data, len);
  return len;
}

size_t OnRead(char* buffer, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const HttpRequest& r = *ex->request;
  size_t room = size * n;
  if (ex->body_fd < 0) {
    size_t left = r.body.size() - static_cast<size_t>(ex->sent);
    size_t k = std::min(room, left);
    std::memcpy(buffer, r.body.data() + ex->sent, k);
    ex->sent += static_cast<int64_t>(k);
    return k;
  }
  int64_t left = r.body_length - ex->sent;
  if (left <= 0) return 0;
  size_t want = static_cast<size_t>(std::min<int64_t>(left, room));
  ssize_t got;
  do {
    got = pread(ex->body_fd, buffer, want, r.body_offset + ex->sent);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) return CURL_READFUNC_ABORT;  // the file shrank or broke
  ex->sent += got;
  return static_cast<size_t>(got);
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

absl::StatusOr<HttpResponse> CurlTransport::Send(const HttpRequest& request) {
  if (!absl::StartsWith(request.url, "http://") &&
      !absl::StartsWith(request.url, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an http(s) URL: ", request.url.substr(0, 200)));
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return absl::InternalError("curl_easy_init failed");
  HttpResponse response;
  Exchange ex;
  ex.request = &request;
  ex.response = &response;
  UniqueFd body_fd, out_fd;
  if (!request.body_file.empty()) {
    body_fd = UniqueFd(open(request.body_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (body_fd.get() < 0) {
      return absl::NotFoundError(absl::StrCat("cannot open ", request.body_file,
                                              ": ", std::strerror(errno)));
    }
    ex.body_fd = body_fd.get();
  }
  if (!request.response_file.empty()) {
    out_fd = UniqueFd(
        open(request.response_file.c_str(),
             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (out_fd.get() < 0) {
      return absl::InternalError(absl::StrCat(
          "cannot create ", request.response_file, ": ", std::strerror(errno)));
    }
    ex.out_fd = out_fd.get();
  }
  CURL* c = curl.get();
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(
      c, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(
      c, CURLOPT_LOW_SPEED_TIME,
      static_cast<long>(absl::ToInt64Seconds(options_.stall_timeout)));
  if (!options_.user_agent.empty())
    curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  if (!options_.extra_ca_file.empty()) {
    // The extra CA file beside the system's certificate directory.
    curl_easy_setopt(c, CURLOPT_CAINFO, options_.extra_ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_CAPATH, "/etc/ssl/certs");
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ex);
  const std::string& m = request.method;
  if (m == "GET" || m == "HEAD") {
    // Registries send blob downloads to storage elsewhere; libcurl does
    // not pass custom Authorization headers to another host.
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (m == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (m == "PUT" || m == "POST" || m == "PATCH") {
    int64_t length = request.body_file.empty()
                         ? static_cast<int64_t>(request.body.size())
                         : request.body_length;
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
    curl_easy_setopt(c, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(c, CURLOPT_READDATA, &ex);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(length));
  } else if (m == "DELETE") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    return absl::InvalidArgumentError(absl::StrCat("HTTP method ", m));
  }
  curl_slist* list = nullptr;
  // No "Expect: 100-continue" round trip before bodies.
  list = curl_slist_append(list, "Expect:");
  for (const auto& [k, v] : request.headers) {
    list = curl_slist_append(list, absl::StrCat(k, ": ", v).c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(list);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  CURLcode rc = curl_easy_perform(c);
  if (ex.too_big) {
    return absl::ResourceExhaustedError(
        absl::StrCat(m, " ", request.url, ": the response is larger than ",
                     request.max_response_bytes, " bytes"));
  }
  if (ex.write_failed) {
    return absl::InternalError(absl::StrCat("writing ", request.response_file,
                                            ": ", std::strerror(errno)));
  }
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
    // Not worth a retry, nor a fall-back to plain HTTP.
    return absl::FailedPreconditionError(
        absl::StrCat(m, " ", request.url, ": ",
                     error[0] != 0 ? error : curl_easy_strerror(rc),
                     " (a private CA is given with --registry-ca FILE)"));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat(m, " ", request.url, ": ",
                     error[0] != 0 ? error : curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace pbrx::common::registry
