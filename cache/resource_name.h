// Parsing of REAPI ByteStream resource names and instance names:
//   read:  {instance_name}/blobs/{hash}/{size}[/{filename}]
//   write: {instance_name}/uploads/{uuid}/blobs/{hash}/{size}[/{filename}]
// An instance name is zero or more '/'-separated segments; none may be empty,
// "." or "..", or one of the words the REAPI reserves ("blobs", "uploads",
// "actions", "actionResults", "operations", "capabilities",
// "compressed-blobs"). Compressed-blob names are recognised and refused
// (UNIMPLEMENTED): this server advertises no compressors. Pure functions.
#ifndef PBRX_CACHE_RESOURCE_NAME_H_
#define PBRX_CACHE_RESOURCE_NAME_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"

namespace pbrx::cache {

struct ResourceName {
  std::string instance_name;
  std::string upload_id;  // writes only
  common::Digest digest = common::Digest::Empty();
};

// INVALID_ARGUMENT naming what is wrong with `name`.
absl::Status ValidateInstanceName(absl::string_view name);
absl::StatusOr<ResourceName> ParseReadResourceName(absl::string_view name);
absl::StatusOr<ResourceName> ParseWriteResourceName(absl::string_view name);

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_RESOURCE_NAME_H_
