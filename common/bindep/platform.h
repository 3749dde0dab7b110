// Platform detection as bindep does it: read os-release the way the Python
// `distro` library does (ID lower-cased, spaces to '_', "ol" -> "oracle",
// "opensuse-leap" -> "opensuse"; codename from VERSION_CODENAME, else
// UBUNTU_CODENAME, else the parenthesised or after-comma part of VERSION;
// release from VERSION_ID), then derive bindep's atoms: the distro id,
// id-<codename word prefixes>, id-<release prefixes> (an empty release still
// gives "id-"), aliases and family atoms (redhat, suse) for RPM distros, and
// the package-manager atom (dpkg, rpm, apk, pacman, emerge, brew).
// Pure functions over file contents: nothing here reads the host.
#ifndef PBRX_COMMON_BINDEP_PLATFORM_H_
#define PBRX_COMMON_BINDEP_PLATFORM_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pbrx::common::bindep {

enum class PackageManager {
  kUnknown,
  kDpkg,
  kRpm,
  kApk,
  kPacman,
  kEmerge,
  kBrew
};

struct DistroInfo {
  std::string id;        // normalised, lower case
  std::string codename;  // lower case, may hold spaces ("xenial xerus")
  std::string release;   // VERSION_ID, lower case
  std::string name;      // NAME
};

struct Platform {
  std::vector<std::string> atoms;  // "platform:..." selectors, sorted
  PackageManager package_manager = PackageManager::kUnknown;
};

// Parses os-release (KEY=VALUE lines, shell quoting, '#' comments) into
// lower-cased keys. INVALID_ARGUMENT "FILE:LINE: ..." on an unterminated
// quote.
absl::StatusOr<std::map<std::string, std::string>> ParseOsRelease(
    absl::string_view content, absl::string_view filename);

DistroInfo DistroFromOsRelease(
    const std::map<std::string, std::string>& fields);

// FAILED_PRECONDITION if the distro id is empty (bindep: "Unable to
// determine distro ID").
absl::StatusOr<Platform> PlatformFromDistro(const DistroInfo& distro);

// The platform given explicitly (--platform): exactly these selectors
// ("platform:" is prepended where missing), sorted and de-duplicated; the
// package manager is the one an atom names, if any.
Platform PlatformFromSelectors(const std::vector<std::string>& selectors);

const char* PackageManagerName(PackageManager pm);

}  // namespace pbrx::common::bindep

#endif  // PBRX_COMMON_BINDEP_PLATFORM_H_
