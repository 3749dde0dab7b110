#include "coordinator/distro_packages.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pbrx::coordinator {
namespace {

using common::bindep::PackageManager;

// Debian and Alpine package names, plus the version/arch qualifiers apt
// accepts (name=version, name:arch).
bool ValidPackageName(const std::string& p) {
  if (p.empty() || !absl::ascii_isalnum(static_cast<unsigned char>(p[0])))
    return false;
  for (char c : p) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        std::string("+-.:=_~").find(c) == std::string::npos)
      return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<PackageInstall> InstallPackagesCommand(
    PackageManager manager, const std::vector<std::string>& packages) {
  if (packages.empty())
    return absl::InvalidArgumentError("no packages to install");
  for (const std::string& p : packages) {
    if (!ValidPackageName(p)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", p, "' is not a distro package name"));
    }
  }
  const std::string list = absl::StrJoin(packages, " ");
  PackageInstall out;
  switch (manager) {
    case PackageManager::kDpkg:
      out.argv = {"sh", "-c",
                  absl::StrCat("apt-get update -qq && apt-get install -y -qq "
                               "--no-install-recommends ",
                               list, " >/dev/null && apt-get clean")};
      out.env = {{"DEBIAN_FRONTEND", "noninteractive"}};
      return out;
    case PackageManager::kApk:
      // --no-cache: the index is fetched to a temporary place, never kept.
      out.argv = {"sh", "-c",
                  absl::StrCat("apk add --no-cache --quiet ", list)};
      return out;
    default:
      return absl::UnimplementedError(
          "the base's package manager is neither apt (dpkg) nor apk");
  }
}

absl::StatusOr<std::vector<std::string>> BuildToolPackages(
    PackageManager manager, bool pbr) {
  switch (manager) {
    case PackageManager::kDpkg: {
      std::vector<std::string> p = {"python3-pip", "python3-setuptools",
                                    "python3-wheel"};
      if (pbr) p.insert(p.end(), {"python3-pbr", "git"});
      return p;
    }
    case PackageManager::kApk: {
      std::vector<std::string> p = {"py3-pip", "py3-setuptools", "py3-wheel"};
      if (pbr) p.insert(p.end(), {"py3-pbr", "git"});
      return p;
    }
    default:
      return absl::UnimplementedError(
          "the base's package manager is neither apt (dpkg) nor apk");
  }
}

}  // namespace pbrx::coordinator
