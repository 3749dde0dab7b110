// CasImageSource: the images a farm build made, pushed straight from the
// farm's CAS (`pbrx build-images --farm URL --push`). Each ref's manifest is
// read by the digest the build reported and checked (its bytes against the
// digest, its descriptors as sha256 digests with sizes); a blob is read
// from the CAS only when the registry lacks it, streamed to a temporary file
// that goes once it is uploaded. So a blob a registry already holds never
// reaches this machine, and nothing is written to a local layout.
#ifndef PBRX_CLIENT_CAS_IMAGE_SOURCE_H_
#define PBRX_CLIENT_CAS_IMAGE_SOURCE_H_

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "cache/blob_store.h"
#include "client/image_push.h"
#include "common/digest.h"

namespace pbrx::client {

// An image a farm build reported: its manifest and the artifact manifests
// that refer to it (its SBOM and provenance), all in the farm's CAS.
struct FarmImage {
  common::Digest manifest = common::Digest::Empty();
  std::vector<common::Digest> referrers;
};

class CasImageSource : public ImageSource {
 public:
  // `manifests`: ref "NAME:TAG" → its image; temporary files go to
  // `tmp_dir` (which must exist).
  CasImageSource(cache::BlobStore* cas,
                 std::map<std::string, FarmImage> manifests,
                 std::string tmp_dir);

  absl::StatusOr<TagImage> Read(const std::string& ref) override;
  common::registry::BlobSourceProvider& blobs() override { return blobs_; }

 private:
  class Blobs : public common::registry::BlobSourceProvider {
   public:
    explicit Blobs(CasImageSource* source) : source_(source) {}
    absl::StatusOr<common::registry::BlobSource> Open(
        const common::Digest& d) override;

   private:
    CasImageSource* source_;
  };

  cache::BlobStore* cas_;
  std::map<std::string, FarmImage> manifests_;
  std::string tmp_dir_;
  Blobs blobs_;
  std::atomic<int64_t> next_tmp_{0};
};

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_CAS_IMAGE_SOURCE_H_
