// PushImage: one image into one repository of a registry, sending only what
// the registry lacks. For each blob (the config and the layers, in
// parallel up to a bound): HEAD first; else a cross-repository mount from a
// repository of the same registry known to hold it (BlobLocations: the
// base's repository, or a sibling image pushed earlier in the run); else an
// upload. The manifest goes last, once per tag, so a failed push never
// leaves a tag pointing at an image with missing blobs. An image every tag
// already names (a HEAD per tag) sends nothing, not even a blob check.
// Then the image's referrers (OCI 1.1 artifacts with a `subject`: its SBOM
// and provenance), unless the registry lists them already: their blobs as
// above, their manifests by digest; a registry with the referrers API
// answers OCI-Subject, for one without (Debian's docker-registry 2.8) they
// are added to the index under the tag "sha256-<subject hex>", as the
// distribution spec's fallback says.
//
// It reads blobs through a BlobSourceProvider (an OCI layout, the CAS) and
// opens each only when it must be uploaded.
#ifndef PBRX_COMMON_REGISTRY_IMAGE_PUSHER_H_
#define PBRX_COMMON_REGISTRY_IMAGE_PUSHER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "common/registry/registry_client.h"

namespace pbrx::common::registry {

struct PushableImage {
  std::string manifest;       // the manifest's bytes
  std::string media_type;     // the manifest's media type
  std::vector<Digest> blobs;  // config first, then the layers
  // An artifact manifest's artifactType (OCI 1.1); "" for an image.
  std::string artifact_type;
  // Artifacts whose subject is this image (its SBOM, its provenance):
  // pushed after it, by digest.
  std::vector<PushableImage> referrers;
};

// The tag under which a registry without the referrers API keeps the
// referrers of `subject` (OCI distribution spec 1.1, "referrers tag
// schema"): "sha256-<hex>".
std::string ReferrersTag(const Digest& subject);

class BlobSourceProvider {
 public:
  virtual ~BlobSourceProvider() = default;
  // The bytes of a blob the registry lacks. Thread-safe.
  virtual absl::StatusOr<BlobSource> Open(const Digest& d) = 0;
};

// Which repositories of one registry hold which blobs. Thread-safe.
class BlobLocations {
 public:
  void Add(const Digest& d, const std::string& repo);
  // The repositories known to hold `d`, other than `repo` (the most
  // recently added first).
  std::vector<std::string> Others(const Digest& d,
                                  const std::string& repo) const;

  // Persisted as lines "HEX REPOSITORY" (oldest first), the newest
  // `max_entries` kept. Load skips malformed lines; a missing file is empty.
  void Load(const std::string& path, size_t max_entries);
  absl::Status Save(const std::string& path, size_t max_entries) const;

 private:
  mutable absl::Mutex mu_;
  // (hash, repository) in the order learnt; a repeat moves to the end.
  std::vector<std::pair<std::string, std::string>> entries_
      ABSL_GUARDED_BY(mu_);
};

struct PushStats {
  Digest manifest = Digest::Empty();
  int64_t bytes_uploaded = 0;
  int blobs_uploaded = 0;
  int blobs_mounted = 0;
  int blobs_skipped = 0;  // already in the repository
  int referrers = 0;      // artifact manifests pushed
  // Every tag already named this manifest: nothing of the image was sent
  // (its blobs count as skipped).
  bool already_there = false;
  // The registry has no referrers API: they were listed under the
  // ReferrersTag() index instead.
  bool referrers_tag = false;
};

struct PushImageOptions {
  int parallel = 4;  // blobs in flight
};

// OK with the counts; the first error otherwise, naming the blob (the
// caller names the image). No tag is written unless every blob is there.
// Whether the registry lists every one of `referrers` as a referrer of
// `subject` (through the referrers API, else the ReferrersTag() index).
absl::StatusOr<bool> ReferrersListed(
    RegistryClient& client, const std::string& repo, const Digest& subject,
    const std::vector<PushableImage>& referrers);

// Adds `referrers` (artifacts already pushed by digest, whose subject is
// `subject`) to the index under ReferrersTag(subject), creating it; entries
// already there are kept, and an index that already lists them all is not
// written again.
absl::Status AddToReferrersTag(RegistryClient& client, const std::string& repo,
                               const Digest& subject,
                               const std::vector<PushableImage>& referrers);

absl::StatusOr<PushStats> PushImage(RegistryClient& client,
                                    const std::string& repo,
                                    const std::vector<std::string>& tags,
                                    const PushableImage& image,
                                    BlobSourceProvider& blobs,
                                    BlobLocations& locations,
                                    const PushImageOptions& options = {});

}  // namespace pbrx::common::registry

#endif  // PBRX_COMMON_REGISTRY_IMAGE_PUSHER_H_
