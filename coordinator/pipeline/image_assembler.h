// Image assembly: each image of a project (the base image, one per console
// script) as an OCI config + manifest over its layers, put into an
// ImageSink (a layout in embedded mode, the CAS in the farm) under every
// tag, recorded as an image-assembly step.
#ifndef PBRX_COORDINATOR_PIPELINE_IMAGE_ASSEMBLER_H_
#define PBRX_COORDINATOR_PIPELINE_IMAGE_ASSEMBLER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/oci/image_blobs.h"
#include "common/oci/layer.h"
#include "coordinator/image_sink.h"
#include "coordinator/pipeline/attestations.h"
#include "coordinator/pipeline/step_report.h"
#include "coordinator/pipeline/step_runner.h"

namespace pbrx::coordinator {

struct ImageRequest {
  std::string name;                        // repository, e.g. "prefix/app-base"
  std::vector<std::string> cmd;            // empty: none
  std::vector<common::oci::Layer> layers;  // bottom first, all in the CAS
  std::vector<PythonDist> python;          // what it installs (its SBOM)
};

// What every image of the project says about itself (OCI annotations
// org.opencontainers.image.*; empty source/revision are left out).
struct ImageLabels {
  std::string title, version, source, revision;
  std::string base_name, base_digest;
  int64_t created = 0;  // SOURCE_DATE_EPOCH
  // An imported base's config, inherited (base_config.h); unset for a
  // debian: base.
  std::optional<common::oci::ImageConfig> base_config;
};

// Puts each image under NAME:TAG for every one of `tags` (ImageTags() of
// the request). With `attestations` (the project's facts; image, manifest
// and python are filled in per image) each image gets an SPDX SBOM and a
// SLSA provenance statement as referrers in the sink. The images, a
// BuiltImage per reference.
absl::StatusOr<std::vector<BuiltImage>> AssembleImages(
    StepRunner& steps, ImageSink& sink, const std::vector<ImageRequest>& images,
    const std::vector<std::string>& tags, const ImageLabels& labels,
    const std::optional<ImageFacts>& attestations = std::nullopt);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_IMAGE_ASSEMBLER_H_
