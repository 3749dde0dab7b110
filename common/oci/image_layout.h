// OciLayout writes images into an OCI image layout directory
// (oci-layout, index.json, blobs/sha256/...): layer blobs, an image config
// (CMD, ENV, WORKDIR, labels, diff_ids) and a manifest, and points refs
// ("org.opencontainers.image.ref.name" annotations in index.json) at it.
// Config and manifest come from common/oci/image_blobs.h.
// Every file is written to a temporary name and renamed, and index.json is
// replaced last, so a failure never leaves a half-written image visible;
// refs of other images already in the layout are kept. Config and manifest
// are compact JSON in a fixed key order, so equal inputs give equal digests.
// Not safe for concurrent writers of the same layout.
#ifndef PBRX_COMMON_OCI_IMAGE_LAYOUT_H_
#define PBRX_COMMON_OCI_IMAGE_LAYOUT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/oci/image_blobs.h"
#include "common/oci/layer.h"

namespace pbrx::common::oci {

// An artifact manifest in a layout that refers to an image (OCI 1.1
// `subject`): an SBOM, a provenance statement.
struct Referrer {
  Digest manifest = Digest::Empty();
  std::string artifact_type;
  // The manifest's bytes (LayoutReferrers: read and checked against
  // `manifest`; AddReferrers does not use them).
  std::string manifest_json;
};

class OciLayout {
 public:
  // Opens `dir`, creating an empty layout if it holds none.
  // FAILED_PRECONDITION if it exists but is not an OCI layout.
  static absl::StatusOr<OciLayout> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }

  // Copies a file in as the blob `digest` (verifying it). No-op if present.
  absl::Status AddBlobFile(const std::string& path, const Digest& digest);
  absl::StatusOr<Digest> AddBlob(absl::string_view bytes);

  // Writes the config and manifest for `layers` (bottom first; their blobs
  // must already be in the layout) and points every ref at the manifest,
  // replacing earlier images of those refs.
  absl::StatusOr<ImageDescriptor> WriteImage(
      const std::vector<Layer>& layers, const ImageConfig& config,
      const std::vector<std::string>& refs);

  // Points every ref at the manifest (whose blob must be in the layout),
  // replacing earlier images of those refs; other refs are kept.
  absl::Status Tag(const Digest& manifest,
                   const std::vector<std::string>& refs);

  // Lists the artifact manifests `referrers` (blobs already in the layout,
  // each with the subject `subject`) in index.json, without a ref name, as
  // the OCI image layout keeps referrers. Referrers whose subject no ref
  // names any more are dropped (a rebuilt image's old SBOM).
  absl::Status AddReferrers(const Digest& subject,
                            const std::vector<Referrer>& referrers);

  // Blob path for a digest.
  std::string BlobPath(const Digest& d) const;

 private:
  explicit OciLayout(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// The referrers of the manifest `subject` that the layout `dir` lists, each
// manifest's bytes with it (DATA_LOSS when they do not match index.json).
absl::StatusOr<std::vector<Referrer>> LayoutReferrers(const std::string& dir,
                                                      const Digest& subject);

}  // namespace pbrx::common::oci

#endif  // PBRX_COMMON_OCI_IMAGE_LAYOUT_H_
