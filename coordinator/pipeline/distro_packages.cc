#include "coordinator/pipeline/distro_packages.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
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
  // The script's text is fixed; the package names are its arguments ("$@"),
  // never pasted into it.
  PackageInstall out;
  switch (manager) {
    case PackageManager::kDpkg:
      out.argv = {"sh", "-c",
                  "apt-get update -qq && apt-get install -y -qq "
                  "--no-install-recommends \"$@\" >/dev/null && "
                  "apt-get clean",
                  "install-packages"};
      out.argv.insert(out.argv.end(), packages.begin(), packages.end());
      out.env = {{"DEBIAN_FRONTEND", "noninteractive"}};
      return out;
    case PackageManager::kApk:
      // --no-cache: the index is fetched to a temporary place, never kept.
      out.argv = {"sh", "-c", "apk add --no-cache --quiet \"$@\"",
                  "install-packages"};
      out.argv.insert(out.argv.end(), packages.begin(), packages.end());
      return out;
    default:
      return absl::UnimplementedError(
          "the base's package manager is neither apt (dpkg) nor apk");
  }
}

absl::StatusOr<std::vector<std::string>> BuildToolPackages(
    PackageManager manager, const std::string& backend) {
  // backend module prefix -> (Debian packages, Alpine packages)
  struct Backend {
    const char* prefix;
    std::vector<std::string> dpkg, apk;
  };
  static const auto* kBackends = new std::vector<Backend>{
      {"pbr", {"python3-pbr", "git"}, {"py3-pbr", "git"}},
      {"hatchling", {"python3-hatchling"}, {"py3-hatchling"}},
      {"flit_core", {"flit"}, {"py3-flit-core"}},
      {"poetry.core", {"python3-poetry-core"}, {"py3-poetry-core"}},
  };
  const Backend* extra = nullptr;
  for (const Backend& b : *kBackends) {
    if (absl::StartsWith(backend, b.prefix)) extra = &b;
  }
  switch (manager) {
    case PackageManager::kDpkg: {
      std::vector<std::string> p = {"python3-pip", "python3-setuptools",
                                    "python3-wheel"};
      if (extra != nullptr)
        p.insert(p.end(), extra->dpkg.begin(), extra->dpkg.end());
      return p;
    }
    case PackageManager::kApk: {
      std::vector<std::string> p = {"py3-pip", "py3-setuptools", "py3-wheel"};
      if (extra != nullptr)
        p.insert(p.end(), extra->apk.begin(), extra->apk.end());
      return p;
    }
    default:
      return absl::UnimplementedError(
          "the base's package manager is neither apt (dpkg) nor apk");
  }
}

}  // namespace pbrx::coordinator
