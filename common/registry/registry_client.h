// RegistryClient: the OCI distribution API (Docker Registry HTTP API v2) of
// one registry, over an injected HttpTransport:
//   - blobs: HEAD, cross-repository mount (POST ?mount=&from=), upload
//     (monolithic PUT for small blobs, PATCH chunks then PUT for big ones),
//     GET into a file, verified against the digest;
//   - manifests: PUT (the registry's Docker-Content-Digest checked against
//     the bytes) and GET with the accepted media types.
// Authentication answers the registry's challenge (WWW-Authenticate):
// Basic with the given credentials, or the bearer-token flow (realm,
// service, scope; tokens cached per scope). Credentials are sent only to
// the registry's own host (and its token realm), never to an upload
// location on another host, and never appear in an error message.
//
// Transient failures (connection errors, HTTP 5xx and 429) are retried a
// bounded number of times with exponential backoff; an upload restarts
// with a new session. Errors name the operation, the repository, the blob
// or manifest and the registry's own error code and message.
//
// Thread-safe: one client may upload many blobs at once.
#ifndef PBRX_COMMON_REGISTRY_REGISTRY_CLIENT_H_
#define PBRX_COMMON_REGISTRY_REGISTRY_CLIENT_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/registry/credentials.h"
#include "common/registry/http_transport.h"

namespace pbrx::common::registry {

struct RegistryClientOptions {
  // http:// instead of https:// (loopback or --insecure-registry only; the
  // caller decides).
  bool plain_http = false;
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
  // Blobs above this size go up in PATCH chunks of this size.
  int64_t chunk_bytes = int64_t{16} << 20;
  int64_t max_manifest_bytes = 4 << 20;
  // How to wait between attempts (tests pass a no-op).
  std::function<void(absl::Duration)> sleep;
};

// Where a blob's bytes come from: a file (all of it) or memory.
struct BlobSource {
  std::string path;
  std::string bytes;
  // What must live as long as the source does (e.g. the temporary file at
  // `path`, removed when the last copy of the source is gone).
  std::shared_ptr<const void> keep;
};

struct FetchedManifest {
  std::string bytes;
  std::string media_type;
  Digest digest = Digest::Empty();
};

// What went over the wire, for reports.
struct TransferCounts {
  int64_t bytes_uploaded = 0;  // blob bytes (manifests not counted)
  int64_t requests = 0;
};

class RegistryClient {
 public:
  // `host` is host[:port] as in an image reference (ApiHost()).
  RegistryClient(HttpTransport* transport, std::string host,
                 std::optional<RegistryCredentials> credentials,
                 RegistryClientOptions options);

  const std::string& host() const { return host_; }

  // Whether `repo` has the blob (HEAD). Errors other than 404 are errors.
  absl::StatusOr<bool> BlobExists(const std::string& repo, const Digest& d);

  // Asks the registry to mount the blob from `from_repo`. true when it did
  // (201); false when it offered an upload instead (the offer is
  // cancelled) or does not mount.
  absl::StatusOr<bool> MountBlob(const std::string& repo, const Digest& d,
                                 const std::string& from_repo);

  // Uploads the blob; the registry checks it against `d`.
  absl::Status UploadBlob(const std::string& repo, const Digest& d,
                          const BlobSource& source);

  // PUTs a manifest under `reference` (a tag or a digest) and returns its
  // digest (checked against the registry's Docker-Content-Digest). With
  // `subject_header`, the registry's OCI-Subject answer ("" when it sent
  // none: it has no referrers API).
  absl::StatusOr<Digest> PutManifest(const std::string& repo,
                                     const std::string& reference,
                                     const std::string& media_type,
                                     const std::string& bytes,
                                     std::string* subject_header = nullptr);

  // GETs a manifest or index; `reference` a tag or "sha256:..." digest (then
  // the bytes are verified against it). NOT_FOUND when there is none.
  absl::StatusOr<FetchedManifest> GetManifest(
      const std::string& repo, const std::string& reference,
      const std::vector<std::string>& accept);

  // The digest the registry has under `reference` (HEAD; its
  // Docker-Content-Digest), nullopt when it has none (404) or does not say.
  absl::StatusOr<std::optional<Digest>> HeadManifest(
      const std::string& repo, const std::string& reference,
      const std::vector<std::string>& accept);

  // The OCI 1.1 referrers API: the index of the manifests whose subject is
  // `subject`; nullopt when the registry has no such API (404).
  absl::StatusOr<std::optional<std::string>> GetReferrers(
      const std::string& repo, const Digest& subject);

  // GETs a blob into `path` (replaced), verified against `d` (DATA_LOSS and
  // the file removed when it does not match).
  absl::Status GetBlob(const std::string& repo, const Digest& d,
                       const std::string& path);

  TransferCounts counts() const;

 private:
  std::string BaseUrl() const;
  std::string Resolve(const std::string& location) const;
  bool SameHost(const std::string& url) const;
  // One exchange with authentication (answering one challenge). `scope` is
  // the token scope to ask for when the registry does not say.
  absl::StatusOr<HttpResponse> Exchange(HttpRequest request,
                                        const std::string& scope);
  absl::Status Authenticate(const HttpResponse& challenge,
                            const std::string& scope, std::string* header);
  // Runs `attempt` until it succeeds, fails for good, or runs out of
  // attempts; UNAVAILABLE from it means "try again".
  absl::Status Retrying(const std::function<absl::Status()>& attempt);
  absl::Status UploadOnce(const std::string& repo, const Digest& d,
                          const BlobSource& source);

  HttpTransport* transport_;
  std::string host_;
  std::optional<RegistryCredentials> credentials_;
  RegistryClientOptions options_;
  mutable absl::Mutex mu_;
  // Authorization header per scope ("" key: Basic).
  std::map<std::string, std::string> auth_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> bytes_uploaded_{0};
  std::atomic<int64_t> requests_{0};
};

// The status for an HTTP error reply: UNAVAILABLE for 5xx and 429 (worth
// a retry), UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
// INVALID_ARGUMENT for other 4xx; the message is `what`, the status and the
// registry's error codes and messages (from its JSON errors body).
absl::Status HttpError(const std::string& what, const HttpResponse& r);

// The parameters of a WWW-Authenticate challenge: scheme in "scheme"
// (lower case), and realm, service, scope... as given.
std::map<std::string, std::string> ParseChallenge(const std::string& header);

}  // namespace pbrx::common::registry

#endif  // PBRX_COMMON_REGISTRY_REGISTRY_CLIENT_H_
