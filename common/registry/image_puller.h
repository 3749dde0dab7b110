// PullImage: one image from a registry into an OCI image layout directory,
// trusting nothing the registry sends: a tag or digest is resolved to a
// manifest (an OCI index or Docker manifest list is resolved to the wanted
// platform), every digest is validated before it becomes a file name,
// every blob is verified against its digest as it is written (the
// registry client's GetBlob), sizes are capped, and index.json is written
// last, so a layout that has one is complete. Blobs already in the layout
// are not fetched again.
//
// It does not unpack or import anything: the caller reads the layout as it
// reads any other (common/oci/layout_reader.h verifies it once more).
#ifndef PBRX_COMMON_REGISTRY_IMAGE_PULLER_H_
#define PBRX_COMMON_REGISTRY_IMAGE_PULLER_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/registry/registry_client.h"

namespace pbrx::common::registry {

struct PullOptions {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;  // "" matches any
  int64_t max_blob_bytes = int64_t{16} << 30;
  int max_layers = 256;
};

struct PulledImage {
  Digest manifest = Digest::Empty();  // the platform's image manifest
  std::string media_type;
  // What `reference` resolved to (an index's digest for a multi-platform
  // image; the same as `manifest` otherwise).
  Digest resolved = Digest::Empty();
};

// The media types asked for when resolving a reference.
std::vector<std::string> ManifestAcceptTypes();

absl::StatusOr<PulledImage> PullImage(RegistryClient& client,
                                      const std::string& repo,
                                      const std::string& reference,
                                      const PullOptions& options,
                                      const std::string& layout_dir);

}  // namespace pbrx::common::registry

#endif  // PBRX_COMMON_REGISTRY_IMAGE_PULLER_H_
