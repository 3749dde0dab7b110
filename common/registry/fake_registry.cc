#include "common/registry/fake_registry.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"
#include "common/json_struct.h"

namespace pbrx::common::registry {
namespace {

HttpResponse Reply(int status, std::string body = "") {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.body_bytes = static_cast<int64_t>(r.body.size());
  return r;
}

HttpResponse Error(int status, const std::string& code) {
  return Reply(status, absl::StrCat(R"({"errors":[{"code":")", code,
                                    R"(","message":"fake )", code, R"("}]})"));
}

std::string HeaderOf(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (absl::EqualsIgnoreCase(k, name)) return v;
  return "";
}

}  // namespace

void FakeRegistry::SetAuth(Auth auth, std::string user, std::string password) {
  absl::MutexLock lock(&mu_);
  auth_ = auth;
  user_ = std::move(user);
  password_ = std::move(password);
}

void FakeRegistry::FailNext(int n, int status) {
  absl::MutexLock lock(&mu_);
  fail_count_ = n;
  fail_status_ = status;
}

bool FakeRegistry::HasBlob(const std::string& repo,
                           const std::string& digest) const {
  absl::MutexLock lock(&mu_);
  auto it = repo_blobs_.find(repo);
  return it != repo_blobs_.end() && it->second.count(digest) != 0;
}

std::string FakeRegistry::Manifest(const std::string& repo,
                                   const std::string& ref) const {
  absl::MutexLock lock(&mu_);
  auto it = manifests_.find(repo + "\n" + ref);
  return it == manifests_.end() ? "" : it->second.second;
}

std::vector<std::string> FakeRegistry::Log() const {
  absl::MutexLock lock(&mu_);
  return log_;
}

int64_t FakeRegistry::BlobBytesReceived() const {
  absl::MutexLock lock(&mu_);
  return blob_bytes_;
}

bool FakeRegistry::Authorized(const HttpRequest& request) const {
  std::string h = HeaderOf(request, "Authorization");
  std::string basic =
      "Basic " + absl::Base64Escape(absl::StrCat(user_, ":", password_));
  switch (auth_) {
    case Auth::kNone:
      return true;
    case Auth::kBasic:
      return h == basic;
    case Auth::kBearer:
      return h == "Bearer token-for-" + user_;
  }
  return false;
}

absl::StatusOr<HttpResponse> FakeRegistry::Send(const HttpRequest& request) {
  std::string body = request.body;
  if (!request.body_file.empty()) {
    std::ifstream in(request.body_file, std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
    body = all.substr(request.body_offset, request.body_length);
  }
  std::string url = request.url;
  std::string rest;
  if (absl::StartsWith(url, "https://auth.test/token")) {
    absl::MutexLock lock(&mu_);
    log_.push_back("GET auth.test" + url.substr(17));
    std::string basic =
        "Basic " + absl::Base64Escape(absl::StrCat(user_, ":", password_));
    if (HeaderOf(request, "Authorization") != basic) return Reply(401);
    return Reply(200, absl::StrCat(R"({"token":"token-for-)", user_, R"("})"));
  }
  for (const char* base : {"http://reg.test", "https://reg.test"}) {
    if (absl::StartsWith(url, base)) rest = url.substr(std::strlen(base));
  }
  if (rest.empty()) {
    return absl::UnavailableError("fake: no such host in " + url);
  }
  std::string path = rest.substr(0, rest.find('?'));
  std::map<std::string, std::string> query;
  if (size_t q = rest.find('?'); q != std::string::npos) {
    for (absl::string_view kv :
         absl::StrSplit(rest.substr(q + 1), '&', absl::SkipEmpty())) {
      size_t eq = kv.find('=');
      query[std::string(kv.substr(0, eq))] =
          eq == absl::string_view::npos ? "" : std::string(kv.substr(eq + 1));
    }
  }
  absl::MutexLock lock(&mu_);
  log_.push_back(absl::StrCat(request.method, " ", rest));
  if (fail_count_ > 0) {
    --fail_count_;
    if (fail_status_ == 0) return absl::UnavailableError("fake: reset");
    return Error(fail_status_, "UNAVAILABLE");
  }
  if (!Authorized(request)) {
    HttpResponse r = Error(401, "UNAUTHORIZED");
    r.headers.emplace_back(
        "www-authenticate",
        auth_ == Auth::kBasic
            ? std::string(R"(Basic realm="fake")")
            : std::string(R"(Bearer realm="https://auth.test/token",)"
                          R"(service="reg.test",scope="repository:x:pull")"));
    return r;
  }
  return Handle(request.method, path, query, request, body);
}

HttpResponse FakeRegistry::Handle(
    const std::string& method, const std::string& path,
    const std::map<std::string, std::string>& query, const HttpRequest& request,
    const std::string& body) {
  if (!absl::StartsWith(path, "/v2/")) return Error(404, "NOT_FOUND");
  std::string p = path.substr(4);
  size_t blobs = p.rfind("/blobs/");
  size_t manifests = p.rfind("/manifests/");
  if (manifests != std::string::npos) {
    std::string repo = p.substr(0, manifests);
    std::string ref = p.substr(manifests + 11);
    std::string key = repo + "\n" + ref;
    if (method == "PUT") {
      std::string d = "sha256:" + Digest::Of(body).hash();
      std::string type = HeaderOf(request, "Content-Type");
      manifests_[key] = {type, body};
      manifests_[repo + "\n" + d] = {type, body};
      HttpResponse r = Reply(201);
      r.headers.emplace_back("docker-content-digest", d);
      absl::StatusOr<google::protobuf::Struct> m =
          ParseJsonStruct(body, "manifest");
      const google::protobuf::Struct* subject =
          m.ok() ? Obj(*m, "subject") : nullptr;
      if (referrers_api_ && subject != nullptr)
        r.headers.emplace_back("oci-subject", Str(*subject, "digest"));
      return r;
    }
    auto it = manifests_.find(key);
    if (it == manifests_.end()) return Error(404, "MANIFEST_UNKNOWN");
    HttpResponse r = Reply(200, method == "HEAD" ? "" : it->second.second);
    r.headers.emplace_back("content-type", it->second.first);
    r.headers.emplace_back("docker-content-digest",
                           "sha256:" + Digest::Of(it->second.second).hash());
    return r;
  }
  size_t referrers = p.rfind("/referrers/");
  if (referrers != std::string::npos) {
    if (!referrers_api_) return Error(404, "NOT_FOUND");
    // The OCI 1.1 referrers API: an index of the manifests whose subject is
    // the digest.
    std::string repo = p.substr(0, referrers);
    std::string subject = p.substr(referrers + 11);
    std::string listed;
    for (const auto& [key, value] : manifests_) {
      if (!absl::StartsWith(key, repo + "\nsha256:")) continue;
      absl::StatusOr<google::protobuf::Struct> m =
          ParseJsonStruct(value.second, "manifest");
      const google::protobuf::Struct* s = m.ok() ? Obj(*m, "subject") : nullptr;
      if (s == nullptr || Str(*s, "digest") != subject) continue;
      absl::StrAppend(&listed, listed.empty() ? "" : ",", R"({"mediaType":")",
                      value.first, R"(","digest":")",
                      key.substr(repo.size() + 1), R"(","size":)",
                      value.second.size(), R"(,"artifactType":")",
                      Str(*m, "artifactType"), R"("})");
    }
    HttpResponse r =
        Reply(200, absl::StrCat(R"({"schemaVersion":2,"mediaType":")",
                                "application/vnd.oci.image.index.v1+json",
                                R"(","manifests":[)", listed, "]}"));
    r.headers.emplace_back("content-type",
                           "application/vnd.oci.image.index.v1+json");
    return r;
  }
  if (blobs == std::string::npos) return Error(404, "NOT_FOUND");
  std::string repo = p.substr(0, blobs);
  std::string tail = p.substr(blobs + 7);
  if (absl::StartsWith(tail, "uploads/")) {
    std::string id = tail.substr(8);
    if (method == "POST" && id.empty()) {
      auto m = query.find("mount");
      if (m != query.end() && !no_mounts_) {
        auto from = repo_blobs_.find(query.at("from"));
        if (from != repo_blobs_.end() && from->second.count(m->second)) {
          repo_blobs_[repo].insert(m->second);
          return Reply(201);
        }
      }
      std::string nid = absl::StrCat("u", next_upload_++);
      uploads_[nid] = {repo, ""};
      HttpResponse r = Reply(202);
      r.headers.emplace_back(
          "location",
          absl::StrCat("/v2/", repo, "/blobs/uploads/", nid, "?_state=s"));
      return r;
    }
    auto up = uploads_.find(id);
    if (up == uploads_.end()) return Error(404, "BLOB_UPLOAD_UNKNOWN");
    if (method == "DELETE") {
      uploads_.erase(up);
      return Reply(204);
    }
    if (method == "PATCH") {
      std::string range = HeaderOf(request, "Content-Range");
      if (range != absl::StrCat(up->second.second.size(), "-",
                                up->second.second.size() + body.size() - 1)) {
        return Error(416, "BLOB_UPLOAD_INVALID");
      }
      up->second.second += body;
      blob_bytes_ += static_cast<int64_t>(body.size());
      HttpResponse r = Reply(202);
      r.headers.emplace_back(
          "location",
          absl::StrCat("/v2/", repo, "/blobs/uploads/", id, "?_state=t"));
      return r;
    }
    if (method == "PUT") {
      up->second.second += body;
      blob_bytes_ += static_cast<int64_t>(body.size());
      std::string want = query.count("digest") ? query.at("digest") : "";
      std::string got = "sha256:" + Digest::Of(up->second.second).hash();
      if (want != got) return Error(400, "DIGEST_INVALID");
      blobs_[got] = up->second.second;
      repo_blobs_[repo].insert(got);
      uploads_.erase(up);
      return Reply(201);
    }
    return Error(405, "UNSUPPORTED");
  }
  bool has = repo_blobs_[repo].count(tail) != 0;
  if (method == "HEAD") return has ? Reply(200) : Reply(404);
  if (method == "GET") {
    if (!has) return Error(404, "BLOB_UNKNOWN");
    HttpResponse r = Reply(200, blobs_[tail]);
    if (!request.response_file.empty()) {
      std::ofstream out(request.response_file, std::ios::binary);
      out << r.body;
      r.body.clear();
    }
    return r;
  }
  return Error(405, "UNSUPPORTED");
}

}  // namespace pbrx::common::registry
