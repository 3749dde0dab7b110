// The steps that make a layer on top of a rootfs: distro packages with the
// base's package manager, Python wheels with the install-wheels step tool,
// and byte-code for what a layer added.
#ifndef PBRX_COORDINATOR_PIPELINE_LAYER_STEPS_H_
#define PBRX_COORDINATOR_PIPELINE_LAYER_STEPS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bindep/platform.h"
#include "common/digest.h"
#include "common/oci/layer.h"
#include "coordinator/pipeline/base_image.h"
#include "coordinator/pipeline/step_runner.h"

namespace pbrx::coordinator {

// Distro packages installed with the base's package manager (apt or apk)
// into a layer of their own (a distro-layer step: capture=rootfs-diff,
// network egress). With `sources` (MirrorSources()), the package manager
// reads them from the step's input root instead of the base's own
// configuration; they are part of the step's key.
absl::StatusOr<common::oci::Layer> PackageLayer(
    StepRunner& steps, const std::string& name, const std::string& rootfs,
    common::bindep::PackageManager manager,
    const std::vector<std::string>& packages, const std::string& sources = "");

// Wheels (file name, digest) installed into one layer by the step tool
// install-wheels (common/step_tool.h) in a sandbox on an executor, never in
// this process (wheels are hostile input). Keyed by the scheme, the mtime,
// the wheels (by digest, in order) and the tools version.
// INVALID_ARGUMENT when two different wheels have one name.
absl::StatusOr<common::oci::Layer> PythonLayer(
    StepRunner& steps, const std::string& name, const Scheme& scheme,
    const std::vector<std::pair<std::string, common::Digest>>& wheels);

// Compiles the .py files below `dirs` (present in `rootfs`) into a layer.
absl::StatusOr<common::oci::Layer> BytecodeLayer(
    StepRunner& steps, const std::string& name, const std::string& rootfs,
    const std::vector<std::string>& dirs);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_LAYER_STEPS_H_
