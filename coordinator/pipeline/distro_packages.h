// The commands that install distro packages into a layer, per package
// manager of the base (as the base probe found it): apt-get on Debian and
// Ubuntu, apk on Alpine. Pure functions: the steps run them in a sandbox
// with network egress and capture the root filesystem's changes.
#ifndef PBRX_COORDINATOR_PIPELINE_DISTRO_PACKAGES_H_
#define PBRX_COORDINATOR_PIPELINE_DISTRO_PACKAGES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bindep/platform.h"

namespace pbrx::coordinator {

struct PackageInstall {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
};

// UNIMPLEMENTED for package managers other than dpkg (apt) and apk;
// INVALID_ARGUMENT for an empty list or a name that is not a package name
// (the names reach a shell).
absl::StatusOr<PackageInstall> InstallPackagesCommand(
    common::bindep::PackageManager manager,
    const std::vector<std::string>& packages);

// What the builder needs besides the bindep compile packages to build
// wheels, in the distro's own package names: pip, setuptools, wheel, plus
// the project's build backend: pbr (+ git), hatchling, flit_core or
// poetry-core. `backend` is the project model's ("pbr", "setuptools", a
// PEP 517 build-backend such as "hatchling.build", or "unknown"). Other
// backends get no extra package (the wheel step then names what it missed).
absl::StatusOr<std::vector<std::string>> BuildToolPackages(
    common::bindep::PackageManager manager, const std::string& backend);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_DISTRO_PACKAGES_H_
