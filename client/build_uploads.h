// UploadBuildInputs: puts a build's local inputs into the CAS the pipeline
// reads them from (coordinator/image_pipeline.h): the find-links directory
// as a tree, each constraints file's content, and an oci: base's layout as
// a tree. Embedded mode uploads to its own cache, the farm client to the
// farm's; either way the pipeline never reads a path of these inputs.
#ifndef PBRX_CLIENT_BUILD_UPLOADS_H_
#define PBRX_CLIENT_BUILD_UPLOADS_H_

#include "absl/status/status.h"
#include "cache/blob_store.h"
#include "coordinator/image_pipeline.h"

namespace pbrx::client {

// Sets options.find_links_root, constraint_blobs, base_layout_root and
// base_ref from options.find_links, constraints and base ("oci:DIR[:REF]",
// or a docker:// base whose pulled layout is `pulled_base_dir`; `base`
// itself is kept as the image's name for it). NOT_FOUND naming the file or
// directory that cannot be read.
absl::Status UploadBuildInputs(coordinator::BuildOptions& options,
                               cache::BlobStore& cas,
                               const std::string& pulled_base_dir = "");

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_BUILD_UPLOADS_H_
