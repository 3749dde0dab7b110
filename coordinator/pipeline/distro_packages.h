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

// Where the packages come from when not from the base's own configuration
// (--mirror on an imported base): files the step's input root holds, at
// these paths in the sandbox.
inline constexpr char kAptSourcesFile[] = "/work/sources.list";
inline constexpr char kAptSourcePartsDir[] = "/work/sources.list.d";
inline constexpr char kApkRepositoriesFile[] = "/work/repositories";

// UNIMPLEMENTED for package managers other than dpkg (apt) and apk;
// INVALID_ARGUMENT for an empty list or a name that is not a package name
// (the names reach a shell). With `own_sources`, apt reads kAptSourcesFile
// (and the empty kAptSourcePartsDir) instead of the base's sources, apk
// kApkRepositoriesFile instead of the base's repositories.
absl::StatusOr<PackageInstall> InstallPackagesCommand(
    common::bindep::PackageManager manager,
    const std::vector<std::string>& packages, bool own_sources = false);

// The sources a mirror gives a base of `manager` whose os-release says
// `codename` (Debian: VERSION_CODENAME) and `version_id` (Alpine:
// VERSION_ID, e.g. 3.19.1): "deb MIRROR CODENAME main" for apt,
// "MIRROR/vMAJOR.MINOR/main" and ".../community" for apk.
// FAILED_PRECONDITION naming what the os-release lacks.
absl::StatusOr<std::string> MirrorSources(
    common::bindep::PackageManager manager, const std::string& mirror,
    const std::string& codename, const std::string& version_id);

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
