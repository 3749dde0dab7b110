// Where `pbrx build-images` puts its images (--output): an OCI layout
// (oci:DIR, the default), or one archive file (oci-archive:FILE,
// docker-archive:FILE; common/oci/image_archive.h). An archive's images are
// built into a temporary layout under the cache's tmp directory, written
// into FILE (complete or not at all) once the build is over, and the layout
// removed.
#ifndef PBRX_CLIENT_IMAGE_OUTPUT_H_
#define PBRX_CLIENT_IMAGE_OUTPUT_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "common/oci/image_archive.h"

namespace pbrx::client {

struct ImageOutput {
  std::string spec;     // as given
  std::string layout;   // absolute: the layout the build writes
  std::string archive;  // absolute FILE; "" for oci:DIR
  common::oci::ArchiveFormat format = common::oci::ArchiveFormat::kOci;
};

// INVALID_ARGUMENT naming --output for another form, an empty path, or an
// archive whose directory does not exist or cannot be written;
// `scratch_dir` holds the temporary layout of an archive.
absl::StatusOr<ImageOutput> ParseImageOutput(const std::string& spec,
                                             const std::string& scratch_dir);

// After the build (exit code `rc`): an archive's images into FILE when any
// was built, and its temporary layout removed. Returns `rc`, or 1 when the
// archive cannot be written (the reason on `err`).
int FinishImageOutput(const ImageOutput& output, int rc, int64_t mtime,
                      std::ostream& err);

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_IMAGE_OUTPUT_H_
