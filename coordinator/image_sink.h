// ImageSink: where the pipeline puts the images it assembles. Their layers
// are step outputs, already in the CAS; a sink stores the config and the
// manifest (common/oci/image_blobs.h) and whatever layers its destination
// lacks.
//   OciLayoutImageSink: an OCI layout directory (embedded mode): copies in
//     the layer blobs the layout lacks, writes config and manifest and points
//     the refs at them.
//   CasImageSink: the CAS (the farm): writes only config and manifest;
//     layers stay where they are, referenced by digest, never copied. The
//     client copies into its own layout exactly the blobs it lacks.
#ifndef PBRX_COORDINATOR_IMAGE_SINK_H_
#define PBRX_COORDINATOR_IMAGE_SINK_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cache/blob_store.h"
#include "common/oci/image_blobs.h"
#include "common/oci/image_layout.h"
#include "common/oci/layer.h"

namespace pbrx::coordinator {

class ImageSink {
 public:
  virtual ~ImageSink() = default;
  // Stores the image of `layers` (bottom first, all in the CAS) with
  // `config`, named by `refs` where the destination keeps names.
  // FAILED_PRECONDITION naming a layer the CAS lacks. Thread-safe.
  virtual absl::StatusOr<common::oci::ImageDescriptor> Put(
      const std::vector<common::oci::Layer>& layers,
      const common::oci::ImageConfig& config,
      const std::vector<std::string>& refs) = 0;

  // Stores an artifact that refers to the image manifest `subject` (put
  // before): `content` of `media_type` under an OCI 1.1 artifact manifest
  // of artifactType `media_type` (common/oci/image_blobs.h). The artifact
  // manifest's digest. Thread-safe.
  virtual absl::StatusOr<common::Digest> PutReferrer(
      const common::Digest& subject, const std::string& media_type,
      const std::string& content) = 0;
};

class OciLayoutImageSink : public ImageSink {
 public:
  // Opens (or creates) the layout `dir`; blobs pass through `scratch_dir`
  // on their way from the CAS. `cas` must outlive the sink.
  static absl::StatusOr<std::unique_ptr<OciLayoutImageSink>> Open(
      cache::BlobStore* cas, const std::string& dir,
      const std::string& scratch_dir);

  absl::StatusOr<common::oci::ImageDescriptor> Put(
      const std::vector<common::oci::Layer>& layers,
      const common::oci::ImageConfig& config,
      const std::vector<std::string>& refs) override;
  absl::StatusOr<common::Digest> PutReferrer(
      const common::Digest& subject, const std::string& media_type,
      const std::string& content) override;

  // Layer blobs copied into the layout so far (one already there is not).
  int64_t layers_copied() const { return layers_copied_.load(); }

 private:
  OciLayoutImageSink(cache::BlobStore* cas, common::oci::OciLayout layout,
                     std::string scratch_dir)
      : cas_(cas),
        layout_(std::move(layout)),
        scratch_(std::move(scratch_dir)) {}
  cache::BlobStore* cas_;
  absl::Mutex mu_;  // one writer of the layout at a time
  common::oci::OciLayout layout_ ABSL_GUARDED_BY(mu_);
  const std::string scratch_;
  std::atomic<int64_t> layers_copied_{0};
  std::atomic<int64_t> next_tmp_{0};
};

class CasImageSink : public ImageSink {
 public:
  explicit CasImageSink(cache::BlobStore* cas) : cas_(cas) {}

  // `refs` are not kept: the build reports them with the manifest digest.
  absl::StatusOr<common::oci::ImageDescriptor> Put(
      const std::vector<common::oci::Layer>& layers,
      const common::oci::ImageConfig& config,
      const std::vector<std::string>& refs) override;
  absl::StatusOr<common::Digest> PutReferrer(
      const common::Digest& subject, const std::string& media_type,
      const std::string& content) override;

 private:
  cache::BlobStore* cas_;
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_IMAGE_SINK_H_
