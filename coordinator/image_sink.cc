#include "coordinator/image_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "cache/directory_tree.h"
#include "common/status_macros.h"

namespace pbrx::coordinator {
namespace {

using common::Digest;

// FAILED_PRECONDITION naming the first layer the CAS lacks.
absl::Status CheckLayersPresent(cache::BlobStore& cas,
                                const std::vector<common::oci::Layer>& layers) {
  std::vector<Digest> digests;
  for (const common::oci::Layer& l : layers) digests.push_back(l.digest);
  ASSIGN_OR_RETURN(std::vector<Digest> missing, cas.FindMissing(digests));
  if (!missing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "layer ", missing.front().ToString(), " is not in the CAS"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<OciLayoutImageSink>> OciLayoutImageSink::Open(
    cache::BlobStore* cas, const std::string& dir,
    const std::string& scratch_dir) {
  ASSIGN_OR_RETURN(common::oci::OciLayout layout,
                   common::oci::OciLayout::Open(dir));
  return std::unique_ptr<OciLayoutImageSink>(
      new OciLayoutImageSink(cas, std::move(layout), scratch_dir));
}

absl::StatusOr<common::oci::ImageDescriptor> OciLayoutImageSink::Put(
    const std::vector<common::oci::Layer>& layers,
    const common::oci::ImageConfig& config,
    const std::vector<std::string>& refs) {
  RETURN_IF_ERROR(CheckLayersPresent(*cas_, layers));
  absl::MutexLock lock(&mu_);
  for (const common::oci::Layer& l : layers) {
    struct stat st;
    if (stat(layout_.BlobPath(l.digest).c_str(), &st) == 0) continue;
    std::string tmp = absl::StrCat(scratch_, "/layer-", getpid(), "-",
                                   next_tmp_.fetch_add(1), ".tar.gz");
    absl::Status s = cache::BlobToFile(*cas_, l.digest, tmp);
    if (s.ok()) s = layout_.AddBlobFile(tmp, l.digest);
    unlink(tmp.c_str());
    RETURN_IF_ERROR(s);
    layers_copied_.fetch_add(1);
  }
  return layout_.WriteImage(layers, config, refs);
}

absl::StatusOr<Digest> OciLayoutImageSink::PutReferrer(
    const Digest& subject, const std::string& media_type,
    const std::string& content) {
  std::string manifest = common::oci::MakeArtifactManifest(
      media_type, media_type, Digest::Of(content), subject);
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(layout_.AddBlob(common::oci::kEmptyJson).status());
  RETURN_IF_ERROR(layout_.AddBlob(content).status());
  ASSIGN_OR_RETURN(Digest d, layout_.AddBlob(manifest));
  RETURN_IF_ERROR(layout_.AddReferrers(subject, {{d, media_type}}));
  return d;
}

absl::StatusOr<Digest> CasImageSink::PutReferrer(const Digest& subject,
                                                 const std::string& media_type,
                                                 const std::string& content) {
  std::string manifest = common::oci::MakeArtifactManifest(
      media_type, media_type, Digest::Of(content), subject);
  const std::string empty = common::oci::kEmptyJson;
  const Digest manifest_digest = Digest::Of(manifest);
  const cache::BlobBytes blobs[] = {{Digest::Of(empty), empty},
                                    {Digest::Of(content), content},
                                    {manifest_digest, manifest}};
  RETURN_IF_ERROR(cas_->WriteBlobs(blobs));
  return manifest_digest;
}

absl::StatusOr<common::oci::ImageDescriptor> CasImageSink::Put(
    const std::vector<common::oci::Layer>& layers,
    const common::oci::ImageConfig& config,
    const std::vector<std::string>& refs) {
  (void)refs;
  RETURN_IF_ERROR(CheckLayersPresent(*cas_, layers));
  common::oci::ImageBlobs blobs = common::oci::MakeImageBlobs(layers, config);
  const cache::BlobBytes written[] = {
      {Digest::Of(blobs.config), blobs.config},
      {Digest::Of(blobs.manifest), blobs.manifest}};
  RETURN_IF_ERROR(cas_->WriteBlobs(written));
  return blobs.descriptor;
}

}  // namespace pbrx::coordinator
