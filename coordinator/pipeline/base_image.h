// The base image of a build and what the pipeline learns from it: an
// `oci:` base imported from its OCI layout (verified, its layers in the CAS)
// or a `debian:SUITE` base built by the debian-base step on an executor;
// then the base-probe step, which says where Python installs and which
// distribution the base is (for bindep and the package manager).
#ifndef PBRX_COORDINATOR_PIPELINE_BASE_IMAGE_H_
#define PBRX_COORDINATOR_PIPELINE_BASE_IMAGE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/bindep/platform.h"
#include "common/digest.h"
#include "common/oci/image_blobs.h"
#include "common/oci/layer.h"
#include "coordinator/pipeline/step_runner.h"

namespace pbrx::coordinator {

struct BaseSpec {
  // "debian:SUITE" or "oci:DIR[:REF]" (then only a name when layout_root is
  // set: the layout's tree in the CAS, and ref the image in it).
  std::string base;
  std::optional<common::Digest> layout_root;
  std::string ref;
  int64_t mtime = 0;  // SOURCE_DATE_EPOCH of a built base's entries
  // debian: only: the mirror and the archive state (common/base/debian_base.h).
  std::string mirror;
  std::string release;
  // oci:/docker:// only: the image's platform, OS/ARCH[/VARIANT] ("" =
  // linux/amd64).
  std::string platform;
};

struct BaseImage {
  std::vector<common::oci::Layer> layers;  // what the images contain
  std::string name;                        // for the base.name annotation
  std::string digest;                      // for the base.digest annotation
  // What images inherit (base_config.h); unset for a debian: base.
  std::optional<common::oci::ImageConfig> config;
};

// The base, recorded as the build's "base" step. `build_mu` (optional)
// serialises base builds so concurrent projects find one cached.
// INVALID_ARGUMENT for a base that is neither debian: nor oci:; a layout
// that lies fails naming the blob (common/oci/layout_reader.h).
absl::StatusOr<BaseImage> MakeBase(StepRunner& steps, const BaseSpec& spec,
                                   absl::Mutex* build_mu = nullptr);

// Where the base's Python installs (its sysconfig scheme).
struct Scheme {
  std::string python, purelib, platlib, scripts, data, include;
};

struct ProbedBase {
  Scheme scheme;
  common::bindep::Platform platform;
  // From its os-release (for a mirror's sources): "" when it names none.
  std::string codename, version_id;
};

// The base-probe step on the rootfs `rootfs` (comma-separated layer
// digests). FAILED_PRECONDITION when the base has no usable Python;
// INVALID_ARGUMENT when its os-release says no known distribution.
absl::StatusOr<ProbedBase> ProbeBase(StepRunner& steps,
                                     const std::string& rootfs);

// The rootfs platform property of a layer stack, bottom first.
std::string RootfsOf(const std::vector<common::oci::Layer>& layers);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_BASE_IMAGE_H_
