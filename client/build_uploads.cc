#include "client/build_uploads.h"

#include <sys/stat.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cache/directory_tree.h"
#include "common/oci/layout_reader.h"
#include "common/status_macros.h"

namespace pbrx::client {

namespace {

constexpr int64_t kMaxConstraintsBytes = 16 << 20;

absl::StatusOr<std::string> ReadCapped(const std::string& path, int64_t max) {
  std::ifstream in(path, std::ios::binary);
  struct stat st;
  if (!in || stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError("cannot be read");
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError("is not a regular file");
  }
  if (st.st_size > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(st.st_size, " bytes, more than the limit of ", max));
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  in.read(text.data(), st.st_size);
  if (in.gcount() != st.st_size) {
    return absl::DataLossError("changed while it was read");
  }
  return text;
}

}  // namespace

absl::Status UploadBuildInputs(coordinator::BuildOptions& options,
                               cache::BlobStore& cas,
                               const std::string& pulled_base_dir) {
  if (!options.find_links.empty()) {
    absl::StatusOr<cache::UploadedTree> links =
        cache::UploadDirectory(options.find_links, cas);
    if (!links.ok()) {
      return common::Annotate(links.status(),
                              "--find-links " + options.find_links);
    }
    options.find_links_root = links->root;
  }
  options.constraint_blobs.clear();
  for (const std::string& c : options.constraints) {
    // The user's own file (a symlink to a lock file elsewhere is fine), as
    // pip would read it; capped.
    absl::StatusOr<std::string> text = ReadCapped(c, kMaxConstraintsBytes);
    if (!text.ok()) {
      return absl::Status(
          text.status().code(),
          absl::StrCat("constraints file ", c, ": ", text.status().message()));
    }
    ASSIGN_OR_RETURN(common::Digest d, cache::WriteBlob(cas, *text));
    options.constraint_blobs.push_back(d);
  }
  if (!pulled_base_dir.empty()) {
    absl::StatusOr<cache::UploadedTree> layout =
        cache::UploadDirectory(pulled_base_dir, cas);
    if (!layout.ok()) {
      return common::Annotate(layout.status(), "--base " + options.base);
    }
    options.base_layout_root = layout->root;
    options.base_ref = "";
  } else if (absl::StartsWith(options.base, "oci:") &&
             options.base.size() > 4) {
    const auto [dir, ref] = common::oci::ParseOciLayoutSpec(options.base);
    absl::StatusOr<cache::UploadedTree> layout =
        cache::UploadDirectory(dir, cas);
    if (!layout.ok()) {
      return common::Annotate(layout.status(), "--base " + options.base);
    }
    options.base_layout_root = layout->root;
    options.base_ref = ref;
  }
  return absl::OkStatus();
}

}  // namespace pbrx::client
