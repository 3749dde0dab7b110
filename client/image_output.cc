#include "client/image_output.h"

#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/paths.h"
#include "common/beneath.h"

namespace pbrx::client {

absl::StatusOr<ImageOutput> ParseImageOutput(const std::string& spec,
                                             const std::string& scratch_dir) {
  ImageOutput out;
  out.spec = spec;
  std::string path;
  bool archive = true;
  if (absl::StartsWith(spec, "oci:")) {
    path = spec.substr(4);
    archive = false;
  } else if (absl::StartsWith(spec, "oci-archive:")) {
    path = spec.substr(12);
    out.format = common::oci::ArchiveFormat::kOci;
  } else if (absl::StartsWith(spec, "docker-archive:")) {
    path = spec.substr(15);
    out.format = common::oci::ArchiveFormat::kDocker;
  }
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--output ", spec,
        ": expected oci:DIR, oci-archive:FILE or docker-archive:FILE"));
  }
  if (!archive) {
    out.layout = Absolute(path);
    return out;
  }
  out.archive = Absolute(path);
  const std::string parent = out.archive.substr(0, out.archive.rfind('/'));
  if (access(parent.empty() ? "/" : parent.c_str(), W_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--output ", spec, ": the directory ", parent,
                     " does not exist or cannot be written"));
  }
  out.layout = absl::StrCat(scratch_dir, "/output-", getpid());
  (void)common::RemoveTree(out.layout);  // a stale one of an earlier run
  return out;
}

int FinishImageOutput(const ImageOutput& output, int rc, int64_t mtime,
                      std::ostream& err) {
  if (output.archive.empty()) return rc;
  // No image built (no layout, or none in it): no file, none replaced.
  absl::Status s = common::oci::WriteImageArchive(output.layout, output.format,
                                                  output.archive, mtime);
  if (!s.ok() && s.code() != absl::StatusCode::kNotFound) {
    err << "pbrx build-images: writing " << output.spec << ": " << s.message()
        << "\n";
    rc = 1;
  }
  (void)common::RemoveTree(output.layout);
  return rc;
}

}  // namespace pbrx::client
