// ImageReference: a container image name as registries and tools spell it,
// REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], parsed and validated by the
// OCI distribution grammar (the same rules docker, skopeo and podman use):
//   - the first path component is the registry when it holds a '.' or a
//     ':' or is "localhost"; otherwise the registry is docker.io and a
//     single-component repository gets "library/" in front;
//   - repository components are [a-z0-9]+ joined by '.', '_', '__' or
//     '-'s, the whole name at most 255 characters;
//   - a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; a digest is sha256:
//     and 64 lowercase hex digits.
// It does not contact anything and knows nothing of credentials.
#ifndef PBRX_COMMON_REGISTRY_IMAGE_REFERENCE_H_
#define PBRX_COMMON_REGISTRY_IMAGE_REFERENCE_H_

#include <string>

#include "absl/status/statusor.h"

namespace pbrx::common::registry {

struct ImageReference {
  std::string registry;    // host[:port], e.g. "localhost:5000", "docker.io"
  std::string repository;  // e.g. "team/app", "library/debian"
  std::string tag;         // "" when none was given
  std::string digest;      // "" or "sha256:<64 hex>"

  // The host the HTTP API is served from (registry-1.docker.io for
  // docker.io).
  std::string ApiHost() const;
  // REGISTRY/REPOSITORY (no tag or digest).
  std::string Name() const;
  // Name() with ":TAG" and/or "@DIGEST" as given.
  std::string ToString() const;
};

// INVALID_ARGUMENT naming the part that is wrong (registry, path component,
// tag, digest) and quoting the reference (cut to 200 characters).
absl::StatusOr<ImageReference> ParseImageReference(const std::string& text);

// Whether `tag` is a valid tag.
bool IsValidTag(const std::string& tag);

}  // namespace pbrx::common::registry

#endif  // PBRX_COMMON_REGISTRY_IMAGE_REFERENCE_H_
