#include "common/registry/registry_client.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace pbrx::common::registry {
namespace {

using google::protobuf::Struct;

std::string DigestText(const Digest& d) { return "sha256:" + d.hash(); }

std::string PercentEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::StrFormat("%02X", c));
    }
  }
  return out;
}

std::string HostOf(absl::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) return "";
  url.remove_prefix(scheme + 3);
  size_t end = url.find_first_of("/?#");
  return absl::AsciiStrToLower(url.substr(0, end));
}

// The digest of a file's bytes.
absl::StatusOr<Digest> DigestOfFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::InternalError(absl::StrCat("cannot read ", path));
  }
  Sha256 sha;
  int64_t size = 0;
  std::string buf(1 << 20, '\0');
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    sha.Update(absl::string_view(buf.data(), n));
    size += static_cast<int64_t>(n);
  }
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return absl::InternalError(absl::StrCat("cannot read ", path));
  return Digest::Create(sha.FinishHex(), size);
}

std::string Scope(const std::string& repo, const std::string& actions) {
  return absl::StrCat("repository:", repo, ":", actions);
}

}  // namespace

absl::Status HttpError(const std::string& what, const HttpResponse& r) {
  std::string detail;
  Struct doc;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  if (!r.body.empty() &&
      google::protobuf::util::JsonStringToMessage(r.body, &doc, opts).ok()) {
    auto it = doc.fields().find("errors");
    if (it != doc.fields().end()) {
      std::vector<std::string> parts;
      for (const auto& e : it->second.list_value().values()) {
        if (!e.has_struct_value()) continue;
        const auto& f = e.struct_value().fields();
        std::string code = f.count("code") ? f.at("code").string_value() : "";
        std::string msg =
            f.count("message") ? f.at("message").string_value() : "";
        parts.push_back(absl::StrCat(code, ": ", msg.substr(0, 300)));
      }
      detail = absl::StrJoin(parts, "; ");
    }
  }
  std::string message = absl::StrCat(what, ": HTTP ", r.status);
  if (!detail.empty()) absl::StrAppend(&message, " ", detail);
  if (r.status >= 500 || r.status == 429)
    return absl::UnavailableError(message);
  switch (r.status) {
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    default:
      return absl::InvalidArgumentError(message);
  }
}

std::map<std::string, std::string> ParseChallenge(const std::string& header) {
  std::map<std::string, std::string> out;
  absl::string_view h = absl::StripLeadingAsciiWhitespace(header);
  size_t sp = h.find(' ');
  out["scheme"] = absl::AsciiStrToLower(h.substr(0, sp));
  if (sp == absl::string_view::npos) return out;
  h.remove_prefix(sp + 1);
  // key="value" or key=token, comma separated; values may hold commas.
  while (!h.empty()) {
    h = absl::StripLeadingAsciiWhitespace(h);
    size_t eq = h.find('=');
    if (eq == absl::string_view::npos) break;
    std::string key =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(h.substr(0, eq)));
    h.remove_prefix(eq + 1);
    std::string value;
    if (!h.empty() && h[0] == '"') {
      size_t i = 1;
      for (; i < h.size() && h[i] != '"'; ++i) {
        if (h[i] == '\\' && i + 1 < h.size()) ++i;
        value.push_back(h[i]);
      }
      h.remove_prefix(std::min(h.size(), i + 1));
    } else {
      size_t comma = h.find(',');
      value = std::string(absl::StripAsciiWhitespace(h.substr(0, comma)));
      h.remove_prefix(comma == absl::string_view::npos ? h.size() : comma);
    }
    out[key] = value;
    h = absl::StripLeadingAsciiWhitespace(h);
    if (!h.empty() && h[0] == ',') h.remove_prefix(1);
  }
  return out;
}

RegistryClient::RegistryClient(HttpTransport* transport, std::string host,
                               std::optional<RegistryCredentials> credentials,
                               RegistryClientOptions options)
    : transport_(transport),
      host_(std::move(host)),
      credentials_(std::move(credentials)),
      options_(std::move(options)) {
  if (!options_.sleep) {
    options_.sleep = [](absl::Duration d) { absl::SleepFor(d); };
  }
}

std::string RegistryClient::BaseUrl() const {
  return absl::StrCat(options_.plain_http ? "http://" : "https://", host_);
}

std::string RegistryClient::Resolve(const std::string& location) const {
  if (absl::StartsWith(location, "http://") ||
      absl::StartsWith(location, "https://"))
    return location;
  if (absl::StartsWith(location, "/")) return BaseUrl() + location;
  return BaseUrl() + "/" + location;
}

bool RegistryClient::SameHost(const std::string& url) const {
  return HostOf(url) == absl::AsciiStrToLower(host_);
}

TransferCounts RegistryClient::counts() const {
  return TransferCounts{bytes_uploaded_.load(), requests_.load()};
}

absl::Status RegistryClient::Authenticate(const HttpResponse& challenge,
                                          const std::string& scope,
                                          std::string* header) {
  std::map<std::string, std::string> c =
      ParseChallenge(challenge.Header("www-authenticate"));
  const std::string& scheme = c["scheme"];
  if (scheme == "basic") {
    if (!credentials_) {
      return absl::UnauthenticatedError(absl::StrCat(
          "registry ", host_,
          " asks for credentials (Basic) and none were found for it"));
    }
    *header =
        "Basic " + absl::Base64Escape(absl::StrCat(credentials_->username, ":",
                                                   credentials_->password));
    return absl::OkStatus();
  }
  if (scheme != "bearer") {
    return absl::UnauthenticatedError(absl::StrCat(
        "registry ", host_, " answered 401 with an authentication scheme '",
        scheme.substr(0, 40), "' pbrx does not speak"));
  }
  const std::string& realm = c["realm"];
  bool realm_ok = absl::StartsWith(realm, "https://") ||
                  (options_.plain_http && absl::StartsWith(realm, "http://"));
  if (!realm_ok) {
    return absl::UnauthenticatedError(
        absl::StrCat("registry ", host_, ": token realm '",
                     realm.substr(0, 200), "' is not an https URL"));
  }
  std::string url = realm;
  std::vector<std::string> params;
  if (!c["service"].empty())
    params.push_back("service=" + PercentEncode(c["service"]));
  std::string want = c.count("scope") ? c["scope"] : scope;
  for (absl::string_view s : absl::StrSplit(want, ' ', absl::SkipEmpty()))
    params.push_back("scope=" + PercentEncode(s));
  if (!params.empty()) {
    absl::StrAppend(&url, realm.find('?') == std::string::npos ? "?" : "&",
                    absl::StrJoin(params, "&"));
  }
  HttpRequest req;
  req.method = "GET";
  req.url = url;
  req.max_response_bytes = 1 << 20;
  if (credentials_) {
    req.headers.emplace_back(
        "Authorization",
        "Basic " + absl::Base64Escape(absl::StrCat(credentials_->username, ":",
                                                   credentials_->password)));
  }
  ++requests_;
  ASSIGN_OR_RETURN(HttpResponse r, transport_->Send(req));
  if (r.status != 200) {
    return HttpError(
        absl::StrCat("getting a token for ", want, " from ", HostOf(realm)), r);
  }
  Struct doc;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  std::string token;
  if (google::protobuf::util::JsonStringToMessage(r.body, &doc, opts).ok()) {
    for (const char* k : {"token", "access_token"}) {
      auto it = doc.fields().find(k);
      if (it != doc.fields().end() && !it->second.string_value().empty()) {
        token = it->second.string_value();
        break;
      }
    }
  }
  if (token.empty()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the token service at ", HostOf(realm), " answered without a token"));
  }
  *header = "Bearer " + token;
  return absl::OkStatus();
}

absl::StatusOr<HttpResponse> RegistryClient::Exchange(
    HttpRequest request, const std::string& scope) {
  bool send_auth = SameHost(request.url);
  for (int round = 0; round < 2; ++round) {
    HttpRequest r = request;
    if (send_auth) {
      absl::MutexLock lock(&mu_);
      auto it = auth_.find(scope);
      if (it == auth_.end()) it = auth_.find("");
      if (it != auth_.end())
        r.headers.emplace_back("Authorization", it->second);
    }
    ++requests_;
    ASSIGN_OR_RETURN(HttpResponse reply, transport_->Send(r));
    if (reply.status == 401 && round == 1 && credentials_) {
      return absl::UnauthenticatedError(
          absl::StrCat("registry ", host_, " refused the credentials of user '",
                       credentials_->username.substr(0, 100), "' (HTTP 401)"));
    }
    if (reply.status != 401 || round == 1 || !send_auth) return reply;
    std::string header;
    RETURN_IF_ERROR(Authenticate(reply, scope, &header));
    absl::MutexLock lock(&mu_);
    auth_[absl::StartsWith(header, "Basic ") ? "" : scope] = header;
  }
  return absl::InternalError("unreachable");
}

absl::Status RegistryClient::Retrying(
    const std::function<absl::Status()>& attempt) {
  absl::Duration backoff = options_.initial_backoff;
  absl::Status s;
  for (int i = 1;; ++i) {
    s = attempt();
    if (s.code() != absl::StatusCode::kUnavailable ||
        i >= options_.max_attempts) {
      break;
    }
    options_.sleep(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  if (s.code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(absl::StrCat(
        s.message(), " (gave up after ", options_.max_attempts, " attempts)"));
  }
  return s;
}

absl::StatusOr<bool> RegistryClient::BlobExists(const std::string& repo,
                                                const Digest& d) {
  bool exists = false;
  RETURN_IF_ERROR(Retrying([&]() -> absl::Status {
    HttpRequest req;
    req.method = "HEAD";
    req.url = absl::StrCat(BaseUrl(), "/v2/", repo, "/blobs/", DigestText(d));
    ASSIGN_OR_RETURN(HttpResponse r, Exchange(req, Scope(repo, "pull")));
    if (r.status == 404) {
      exists = false;
      return absl::OkStatus();
    }
    if (r.status != 200) {
      return HttpError(absl::StrCat("checking blob ", DigestText(d), " in ",
                                    host_, "/", repo),
                       r);
    }
    exists = true;
    return absl::OkStatus();
  }));
  return exists;
}

absl::StatusOr<bool> RegistryClient::MountBlob(const std::string& repo,
                                               const Digest& d,
                                               const std::string& from_repo) {
  bool mounted = false;
  RETURN_IF_ERROR(Retrying([&]() -> absl::Status {
    HttpRequest req;
    req.method = "POST";
    req.url = absl::StrCat(BaseUrl(), "/v2/", repo,
                           "/blobs/uploads/?mount=", DigestText(d),
                           "&from=", from_repo);
    ASSIGN_OR_RETURN(HttpResponse r,
                     Exchange(req, absl::StrCat(Scope(repo, "pull,push"), " ",
                                                Scope(from_repo, "pull"))));
    if (r.status == 201) {
      mounted = true;
      return absl::OkStatus();
    }
    if (r.status == 202) {
      // An upload session was opened instead: close it.
      if (std::string loc = r.Header("location"); !loc.empty()) {
        HttpRequest del;
        del.method = "DELETE";
        del.url = Resolve(loc);
        (void)Exchange(del, Scope(repo, "pull,push"));
      }
      mounted = false;
      return absl::OkStatus();
    }
    return HttpError(absl::StrCat("mounting blob ", DigestText(d), " from ",
                                  from_repo, " into ", host_, "/", repo),
                     r);
  }));
  return mounted;
}

absl::Status RegistryClient::UploadOnce(const std::string& repo,
                                        const Digest& d,
                                        const BlobSource& source) {
  const std::string what =
      absl::StrCat("uploading blob ", DigestText(d), " to ", host_, "/", repo);
  const std::string scope = Scope(repo, "pull,push");
  HttpRequest start;
  start.method = "POST";
  start.url = absl::StrCat(BaseUrl(), "/v2/", repo, "/blobs/uploads/");
  ASSIGN_OR_RETURN(HttpResponse r, Exchange(start, scope));
  if (r.status != 202) return HttpError(what, r);
  std::string location = r.Header("location");
  if (location.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the registry opened no upload location"));
  }
  auto with_digest = [&](const std::string& loc) {
    std::string url = Resolve(loc);
    absl::StrAppend(&url, url.find('?') == std::string::npos ? "?" : "&",
                    "digest=", DigestText(d));
    return url;
  };
  auto body_into = [&](HttpRequest& req, int64_t offset, int64_t length) {
    if (source.path.empty()) {
      req.body = source.bytes.substr(offset, length);
    } else {
      req.body_file = source.path;
      req.body_offset = offset;
      req.body_length = length;
    }
  };
  const int64_t size = d.size();
  if (size <= options_.chunk_bytes) {
    HttpRequest put;
    put.method = "PUT";
    put.url = with_digest(location);
    put.headers.emplace_back("Content-Type", "application/octet-stream");
    body_into(put, 0, size);
    ASSIGN_OR_RETURN(HttpResponse done, Exchange(put, scope));
    if (done.status != 201) return HttpError(what, done);
    bytes_uploaded_ += size;
    return absl::OkStatus();
  }
  for (int64_t offset = 0; offset < size; offset += options_.chunk_bytes) {
    int64_t length = std::min(options_.chunk_bytes, size - offset);
    HttpRequest patch;
    patch.method = "PATCH";
    patch.url = Resolve(location);
    patch.headers.emplace_back("Content-Type", "application/octet-stream");
    patch.headers.emplace_back("Content-Range",
                               absl::StrCat(offset, "-", offset + length - 1));
    body_into(patch, offset, length);
    ASSIGN_OR_RETURN(HttpResponse pr, Exchange(patch, scope));
    if (pr.status != 202) return HttpError(what, pr);
    bytes_uploaded_ += length;
    if (std::string next = pr.Header("location"); !next.empty())
      location = next;
  }
  HttpRequest put;
  put.method = "PUT";
  put.url = with_digest(location);
  ASSIGN_OR_RETURN(HttpResponse done, Exchange(put, scope));
  if (done.status != 201) return HttpError(what, done);
  return absl::OkStatus();
}

absl::Status RegistryClient::UploadBlob(const std::string& repo,
                                        const Digest& d,
                                        const BlobSource& source) {
  if (source.path.empty() &&
      static_cast<int64_t>(source.bytes.size()) != d.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("blob ", DigestText(d), ": ", source.bytes.size(),
                     " bytes given for a blob of ", d.size()));
  }
  return Retrying([&] { return UploadOnce(repo, d, source); });
}

absl::StatusOr<Digest> RegistryClient::PutManifest(
    const std::string& repo, const std::string& reference,
    const std::string& media_type, const std::string& bytes,
    std::string* subject_header) {
  const Digest want = Digest::Of(bytes);
  const std::string what =
      absl::StrCat("pushing manifest ", DigestText(want), " to ", host_, "/",
                   repo, ":", reference);
  RETURN_IF_ERROR(Retrying([&]() -> absl::Status {
    HttpRequest req;
    req.method = "PUT";
    req.url = absl::StrCat(BaseUrl(), "/v2/", repo, "/manifests/", reference);
    req.headers.emplace_back("Content-Type", media_type);
    req.body = bytes;
    ASSIGN_OR_RETURN(HttpResponse r, Exchange(req, Scope(repo, "pull,push")));
    if (r.status != 201 && r.status != 200) return HttpError(what, r);
    std::string got = r.Header("docker-content-digest");
    if (!got.empty() && got != DigestText(want)) {
      return absl::DataLossError(absl::StrCat(
          what, ": the registry stored it as ", got.substr(0, 80)));
    }
    if (subject_header != nullptr) *subject_header = r.Header("oci-subject");
    return absl::OkStatus();
  }));
  return want;
}

absl::StatusOr<std::optional<Digest>> RegistryClient::HeadManifest(
    const std::string& repo, const std::string& reference,
    const std::vector<std::string>& accept) {
  std::optional<Digest> out;
  const std::string what =
      absl::StrCat("checking manifest ", host_, "/", repo, ":", reference);
  RETURN_IF_ERROR(Retrying([&]() -> absl::Status {
    HttpRequest req;
    req.method = "HEAD";
    req.url = absl::StrCat(BaseUrl(), "/v2/", repo, "/manifests/", reference);
    req.headers.emplace_back("Accept", absl::StrJoin(accept, ", "));
    ASSIGN_OR_RETURN(HttpResponse r, Exchange(req, Scope(repo, "pull")));
    if (r.status == 404) return absl::OkStatus();
    if (r.status != 200) return HttpError(what, r);
    std::string d = r.Header("docker-content-digest");
    if (absl::StartsWith(d, "sha256:") && d.size() == 71) {
      absl::StatusOr<Digest> parsed = Digest::Create(d.substr(7), 0);
      if (parsed.ok()) out = *parsed;
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<std::string>> RegistryClient::GetReferrers(
    const std::string& repo, const Digest& subject) {
  std::optional<std::string> out;
  const std::string what = absl::StrCat("getting the referrers of ", host_, "/",
                                        repo, "@", DigestText(subject));
  RETURN_IF_ERROR(Retrying([&]() -> absl::Status {
    HttpRequest req;
    req.method = "GET";
    req.url = absl::StrCat(BaseUrl(), "/v2/", repo, "/referrers/",
                           DigestText(subject));
    req.headers.emplace_back("Accept",
                             "application/vnd.oci.image.index.v1+json");
    req.max_response_bytes = options_.max_manifest_bytes;
    ASSIGN_OR_RETURN(HttpResponse r, Exchange(req, Scope(repo, "pull")));
    if (r.status == 404) return absl::OkStatus();
    if (r.status != 200) return HttpError(what, r);
    out = std::move(r.body);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<FetchedManifest> RegistryClient::GetManifest(
    const std::string& repo, const std::string& reference,
    const std::vector<std::string>& accept) {
  FetchedManifest out;
  const std::string what = absl::StrCat(
      "getting manifest ", host_, "/", repo,
      absl::StartsWith(reference, "sha256:") ? "@" : ":", reference);
  RETURN_IF_ERROR(Retrying([&]() -> absl::Status {
    HttpRequest req;
    req.method = "GET";
    req.url = absl::StrCat(BaseUrl(), "/v2/", repo, "/manifests/", reference);
    req.headers.emplace_back("Accept", absl::StrJoin(accept, ", "));
    req.max_response_bytes = options_.max_manifest_bytes;
    ASSIGN_OR_RETURN(HttpResponse r, Exchange(req, Scope(repo, "pull")));
    if (r.status != 200) return HttpError(what, r);
    out.bytes = std::move(r.body);
    std::string type = r.Header("content-type");
    out.media_type = type.substr(0, type.find(';'));
    return absl::OkStatus();
  }));
  out.digest = Digest::Of(out.bytes);
  if (absl::StartsWith(reference, "sha256:") &&
      reference != DigestText(out.digest)) {
    return absl::DataLossError(
        absl::StrCat(what, ": the bytes served are ", DigestText(out.digest)));
  }
  return out;
}

absl::Status RegistryClient::GetBlob(const std::string& repo, const Digest& d,
                                     const std::string& path) {
  const std::string what =
      absl::StrCat("getting blob ", DigestText(d), " from ", host_, "/", repo);
  RETURN_IF_ERROR(Retrying([&]() -> absl::Status {
    HttpRequest req;
    req.method = "GET";
    req.url = absl::StrCat(BaseUrl(), "/v2/", repo, "/blobs/", DigestText(d));
    req.response_file = path;
    ASSIGN_OR_RETURN(HttpResponse r, Exchange(req, Scope(repo, "pull")));
    if (r.status != 200) return HttpError(what, r);
    return absl::OkStatus();
  }));
  ASSIGN_OR_RETURN(Digest got, DigestOfFile(path));
  if (got != d) {
    unlink(path.c_str());
    return absl::DataLossError(absl::StrCat(what, ": the bytes served are ",
                                            DigestText(got), " (", got.size(),
                                            " bytes)"));
  }
  return absl::OkStatus();
}

}  // namespace pbrx::common::registry
