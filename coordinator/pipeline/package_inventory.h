// The distro packages an image holds, for its SBOM: the packages-probe
// step runs a small Python program (common/base/base_probe.h) in a rootfs
// (the base and the runtime layer) on an executor; the coordinator only
// reads and checks the small JSON it writes.
#ifndef PBRX_COORDINATOR_PIPELINE_PACKAGE_INVENTORY_H_
#define PBRX_COORDINATOR_PIPELINE_PACKAGE_INVENTORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/pipeline/step_runner.h"

namespace pbrx::coordinator {

struct DistroPackage {
  std::string name, version, arch;
  std::string source;  // the source package, "" when the same as name
};

struct DistroInventory {
  std::string manager;  // "dpkg", "apk", or "" (neither database found)
  std::string distro_id, version_id, codename;  // from os-release
  std::vector<DistroPackage> packages;          // sorted by name, arch
};

// The packages.json a probe writes is at most this large.
inline constexpr int64_t kMaxInventoryBytes = 16 << 20;
// Caps of a single field and of the package count.
inline constexpr size_t kMaxInventoryField = 256;
inline constexpr size_t kMaxInventoryPackages = 100000;

// Parses a probe's packages.json (`what` names it in messages).
// INVALID_ARGUMENT naming the field for a document that is not one, a
// field over kMaxInventoryField or with a control character, or too many
// packages.
absl::StatusOr<DistroInventory> ParseInventory(const std::string& json,
                                               const std::string& what);

// Runs the packages-probe step on `rootfs` (comma-separated layer digests;
// `name` names the step) and parses its output.
absl::StatusOr<DistroInventory> ProbePackages(StepRunner& steps,
                                              const std::string& name,
                                              const std::string& rootfs);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_PACKAGE_INVENTORY_H_
