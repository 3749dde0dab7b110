// What images inherit from an imported base's config (an `oci:` or
// `docker://` base): Env (PATH merged), User, WorkingDir, Entrypoint,
// Labels, and the platform (architecture, os, variant). A `debian:` base has
// none of these: its images get pbrx's defaults.
#ifndef PBRX_COORDINATOR_PIPELINE_BASE_CONFIG_H_
#define PBRX_COORDINATOR_PIPELINE_BASE_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/oci/image_blobs.h"

namespace pbrx::coordinator {

// The inheritable parts of an OCI image config (JSON, already verified
// against its digest and capped in size). INVALID_ARGUMENT naming `what`
// and the field for a wrong type, an Env entry without '=', a string with
// control characters, or more than 1024 Env entries or Labels.
absl::StatusOr<common::oci::ImageConfig> ParseBaseConfig(
    const std::string& config_json, const std::string& what);

// `image` (pbrx's own config of an image) on top of `base`: the base's Env,
// then pbrx's variables the base does not set; PATH keeps the base's
// entries in order and appends those of pbrx's PATH it lacks;
// the base's User, Entrypoint and platform; the base's WorkingDir unless it
// has none; the base's Labels under pbrx's. Cmd, created and annotations
// stay pbrx's.
common::oci::ImageConfig InheritBaseConfig(
    const common::oci::ImageConfig& base,
    const common::oci::ImageConfig& image);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_BASE_CONFIG_H_
