// The JSON of an OCI image: its config (CMD, ENV, WORKDIR, labels,
// diff_ids) and its manifest (config and layer descriptors), built in one
// place for every destination (an OCI layout, the CAS). Compact JSON in a
// fixed key order, so equal inputs give equal bytes and digests.
#ifndef PBRX_COMMON_OCI_IMAGE_BLOBS_H_
#define PBRX_COMMON_OCI_IMAGE_BLOBS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/json_writer.h"
#include "common/oci/layer.h"

namespace pbrx::common::oci {

inline constexpr char kManifestMediaType[] =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kConfigMediaType[] =
    "application/vnd.oci.image.config.v1+json";
inline constexpr char kLayerMediaType[] =
    "application/vnd.oci.image.layer.v1.tar+gzip";

// OCI 1.1: the empty descriptor's media type and content (the config of an
// artifact manifest).
inline constexpr char kEmptyMediaType[] = "application/vnd.oci.empty.v1+json";
inline constexpr char kEmptyJson[] = "{}";

struct ImageConfig {
  std::string architecture = "amd64";
  std::string os = "linux";
  std::string variant;  // e.g. "v8" for arm64; omitted when empty
  int64_t created = 0;  // seconds since the epoch (SOURCE_DATE_EPOCH)
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string user;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  // The manifest's annotations (not the config's): e.g.
  // org.opencontainers.image.base.name/digest.
  std::map<std::string, std::string> annotations;
};

struct ImageDescriptor {
  Digest manifest = Digest::Empty();
  Digest config = Digest::Empty();
  int64_t size = 0;  // manifest + config + layer blobs
};

struct ImageBlobs {
  std::string config;    // the config's JSON
  std::string manifest;  // the manifest's JSON
  ImageDescriptor descriptor;
};

// The config and manifest of an image of `layers` (bottom first).
ImageBlobs MakeImageBlobs(const std::vector<Layer>& layers,
                          const ImageConfig& config);

// An OCI 1.1 artifact manifest that refers to the image manifest `subject`:
// artifactType `artifact_type`, the empty config (kEmptyJson), one layer
// `content` of `content_media_type`. Compact JSON, fixed key order.
std::string MakeArtifactManifest(const std::string& artifact_type,
                                 const std::string& content_media_type,
                                 const Digest& content, const Digest& subject);

// "sha256:<hex>", as OCI JSON spells a digest.
std::string DigestString(const Digest& d);

// Writes an OCI descriptor {mediaType, digest, size} as the next value.
void WriteDescriptor(JsonWriter& w, const char* media_type, const Digest& d);

}  // namespace pbrx::common::oci

#endif  // PBRX_COMMON_OCI_IMAGE_BLOBS_H_
