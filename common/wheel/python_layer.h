// PythonLayer: wheels installed with the native installer (wheel_installer.h)
// into an empty staging tree, written as one deterministic OCI layer
// (common/oci/layer.h). A step tool (common/step_tool.h): it runs inside an
// executor's sandbox, never in the coordinator, because wheels come from
// package indexes and are hostile input.
#ifndef PBRX_COMMON_WHEEL_PYTHON_LAYER_H_
#define PBRX_COMMON_WHEEL_PYTHON_LAYER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/oci/layer.h"
#include "common/wheel/wheel_installer.h"

namespace pbrx::common::wheel {

struct PythonLayerRequest {
  InstallScheme scheme;
  int64_t mtime = 0;                // every entry's mtime
  std::vector<std::string> wheels;  // installed in this order
  std::string staging_dir;          // created; removed afterwards
  std::string out_path;             // the layer (.tar.gz)
  WheelLimits limits;
};

// Installs the wheels and writes the layer. INVALID_ARGUMENT naming the
// wheel for one that cannot be installed.
absl::StatusOr<oci::Layer> WritePythonLayer(const PythonLayerRequest& request);

}  // namespace pbrx::common::wheel

#endif  // PBRX_COMMON_WHEEL_PYTHON_LAYER_H_
