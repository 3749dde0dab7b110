// The result of verifying a base image's OCI layout (the step tool
// `oci-base`, common/step_tool.h), as the small JSON file the step outputs
// and the pipeline reads back: the chosen manifest's digest and media type,
// the config's digest, and per layer its digest, media type and verified
// diff_id. The file comes from an executor: parsing it validates every
// digest (sha256 + 64 hex digits, sizes >= 0) and caps its size.
#ifndef PBRX_COMMON_OCI_VERIFIED_IMAGE_H_
#define PBRX_COMMON_OCI_VERIFIED_IMAGE_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/oci/layout_reader.h"

namespace pbrx::common::oci {

inline constexpr char kVerifiedImageFile[] = "base.json";
inline constexpr int64_t kMaxVerifiedImageBytes = 1 << 20;

// The JSON of `image` (its manifest and config bytes and layer paths are
// left out: they are in the layout).
std::string VerifiedImageJson(const OciImage& image);

// The image back from that JSON (manifest_json, config_json and the layer
// paths empty). INVALID_ARGUMENT naming `what` and the field otherwise.
absl::StatusOr<OciImage> ParseVerifiedImageJson(const std::string& text,
                                                const std::string& what);

}  // namespace pbrx::common::oci

#endif  // PBRX_COMMON_OCI_VERIFIED_IMAGE_H_
