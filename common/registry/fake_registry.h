// FakeRegistry: an in-memory registry behind the HttpTransport seam, for
// unit tests of the protocol client and the pusher: blobs per repository,
// upload sessions (monolithic and chunked, digest checked), cross-repository
// mounts, manifests, an optional auth mode (Basic, or bearer tokens from a
// token service at https://auth.test/token) and injected failures. It serves
// http(s)://reg.test and records every request as "METHOD /path?query".
#ifndef PBRX_COMMON_REGISTRY_FAKE_REGISTRY_H_
#define PBRX_COMMON_REGISTRY_FAKE_REGISTRY_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/registry/http_transport.h"

namespace pbrx::common::registry {

class FakeRegistry : public HttpTransport {
 public:
  enum class Auth { kNone, kBasic, kBearer };
  void SetAuth(Auth auth, std::string user, std::string password);
  // The next `n` requests to the registry (not the token service) fail with
  // `status` (0: a broken connection, UNAVAILABLE from Send).
  void FailNext(int n, int status);
  // When set, the registry never mounts (as if cross-repository mounts were
  // off).
  void DisableMounts() { no_mounts_ = true; }
  // When set, the registry has the OCI 1.1 referrers API: a manifest PUT
  // with a subject is answered with OCI-Subject.
  void EnableReferrersApi() { referrers_api_ = true; }

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

  bool HasBlob(const std::string& repo, const std::string& digest) const;
  std::string Manifest(const std::string& repo, const std::string& ref) const;
  std::vector<std::string> Log() const;
  int64_t BlobBytesReceived() const;

 private:
  HttpResponse Handle(const std::string& method, const std::string& path,
                      const std::map<std::string, std::string>& query,
                      const HttpRequest& request, const std::string& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Authorized(const HttpRequest& request) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  Auth auth_ ABSL_GUARDED_BY(mu_) = Auth::kNone;
  std::string user_ ABSL_GUARDED_BY(mu_), password_ ABSL_GUARDED_BY(mu_);
  int fail_count_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_status_ ABSL_GUARDED_BY(mu_) = 0;
  bool no_mounts_ = false;
  bool referrers_api_ = false;
  std::map<std::string, std::string> blobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> repo_blobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::pair<std::string, std::string>> manifests_
      ABSL_GUARDED_BY(mu_);  // "repo\nref" -> (type, bytes)
  std::map<std::string, std::pair<std::string, std::string>> uploads_
      ABSL_GUARDED_BY(mu_);  // id -> (repo, bytes so far)
  int next_upload_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  int64_t blob_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pbrx::common::registry

#endif  // PBRX_COMMON_REGISTRY_FAKE_REGISTRY_H_
