#include "client/cas_image_source.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "cache/directory_tree.h"
#include "common/json_struct.h"
#include "common/oci/image_blobs.h"
#include "common/oci/layout_reader.h"
#include "common/status_macros.h"

namespace pbrx::client {
namespace {

constexpr int64_t kMaxManifestBytes = 4 << 20;

// A file removed when the last BlobSource holding it is dropped.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { unlink(path_.c_str()); }

 private:
  std::string path_;
};

}  // namespace

CasImageSource::CasImageSource(cache::BlobStore* cas,
                               std::map<std::string, FarmImage> manifests,
                               std::string tmp_dir)
    : cas_(cas),
      manifests_(std::move(manifests)),
      tmp_dir_(std::move(tmp_dir)),
      blobs_(this) {}

absl::StatusOr<TagImage> CasImageSource::Read(const std::string& ref) {
  auto it = manifests_.find(ref);
  if (it == manifests_.end())
    return absl::NotFoundError(absl::StrCat("the farm built no image ", ref));
  const common::Digest& d = it->second.manifest;
  const std::string what = absl::StrCat("manifest sha256:", d.hash());
  if (d.size() > kMaxManifestBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": ", d.size(), " bytes, more than ", kMaxManifestBytes));
  }
  ASSIGN_OR_RETURN(std::string bytes, cache::ReadBlob(*cas_, d));
  TagImage out;
  out.manifest = d;
  ASSIGN_OR_RETURN(out.content, PushableManifest(std::move(bytes), what));
  // Its SBOM and provenance, as the build reported them.
  for (const common::Digest& r : it->second.referrers) {
    const std::string what =
        absl::StrCat("artifact manifest sha256:", r.hash());
    if (r.size() > kMaxManifestBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": ", r.size(), " bytes, more than ", kMaxManifestBytes));
    }
    ASSIGN_OR_RETURN(std::string artifact, cache::ReadBlob(*cas_, r));
    ASSIGN_OR_RETURN(common::registry::PushableImage pushable,
                     PushableManifest(std::move(artifact), what));
    out.content.referrers.push_back(std::move(pushable));
  }
  return out;
}

absl::StatusOr<common::registry::BlobSource> CasImageSource::Blobs::Open(
    const common::Digest& d) {
  common::registry::BlobSource s;
  s.path = absl::StrCat(source_->tmp_dir_, "/push-", getpid(), "-",
                        source_->next_tmp_++, "-", d.hash());
  s.keep = std::make_shared<TempFile>(s.path);
  RETURN_IF_ERROR(cache::BlobToFile(*source_->cas_, d, s.path));
  return s;
}

}  // namespace pbrx::client
