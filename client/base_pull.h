// `--base docker://REGISTRY/REPO[:TAG][@sha256:DIGEST]`: the client pulls
// the base (common/registry/image_puller.h) into an OCI layout under
// CACHE_DIR/bases/, one per resolved manifest and platform, and the build
// then uses it as it uses an `oci:` base (uploaded to the CAS, where the
// farm keeps it: a base is pulled once per client cache and sent to a farm
// once). A tag is resolved at each build (one manifest request); a
// digest-pinned base whose layout is cached never contacts the registry.
#ifndef PBRX_CLIENT_BASE_PULL_H_
#define PBRX_CLIENT_BASE_PULL_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/image_push.h"

namespace pbrx::client {

struct PulledBase {
  std::string layout_dir;  // a complete OCI layout holding only the image
  // The base as the build records it: "docker://NAME[:TAG]@sha256:HEX",
  // the resolved digest of what was asked for (an index's for a
  // multi-platform image).
  std::string base;
  // Set when the cached layout was damaged (a blob missing or not matching
  // its digest) and the base was pulled again: what was wrong.
  std::string warning;
};

// A cached layout is verified (every blob against its digest, as
// common/oci/layout_reader reads it) before it is used; a damaged one is
// removed and pulled again. INVALID_ARGUMENT for a malformed reference; the
// registry's errors naming the image otherwise.
// `platform`: OS/ARCH[/VARIANT] to pick from a multi-platform image ("" =
// linux/amd64; a variant "" matches any).
absl::StatusOr<PulledBase> PullDockerBase(const std::string& base_flag,
                                          const RegistryFlags& flags,
                                          const std::string& cache_dir,
                                          const std::string& platform = "");

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_BASE_PULL_H_
