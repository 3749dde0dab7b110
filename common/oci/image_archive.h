// Writing the images of an OCI layout as one archive file, for
// `pbrx build-images --output oci-archive:FILE` and `docker-archive:FILE`:
//
// - oci-archive: the layout as a tar (oci-layout, index.json, blobs), the
//   format skopeo's and podman's `oci-archive:` read.
// - docker-archive: `docker save`'s format, as `docker load` and
//   `podman load` read it: manifest.json (per image its Config, RepoTags
//   and Layers), each config as blobs/sha256/HEX and each layer as an
//   uncompressed tar named by its diff_id (blobs/sha256/DIFF_ID_HEX; each
//   layer is inflated and checked against its diff_id on the way).
//
// Entries are sorted, owned by 0:0, mode 0644, mtime `mtime`: the same
// layout gives the same bytes. The file is written beside FILE and renamed
// over it only when complete, so a failure leaves no half-written archive.
#ifndef PBRX_COMMON_OCI_IMAGE_ARCHIVE_H_
#define PBRX_COMMON_OCI_IMAGE_ARCHIVE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace pbrx::common::oci {

enum class ArchiveFormat { kOci, kDocker };

// Every image of the layout `layout_dir` into `file`. NOT_FOUND (and no
// file) when the layout holds no image.
absl::Status WriteImageArchive(const std::string& layout_dir,
                               ArchiveFormat format, const std::string& file,
                               int64_t mtime = 0);

}  // namespace pbrx::common::oci

#endif  // PBRX_COMMON_OCI_IMAGE_ARCHIVE_H_
