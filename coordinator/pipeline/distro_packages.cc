#include "coordinator/pipeline/distro_packages.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

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
    PackageManager manager, const std::vector<std::string>& packages,
    bool own_sources) {
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
      if (own_sources) {
        // APT_CONFIG-free: the options go into both commands' text, which
        // stays fixed (the paths are constants).
        out.argv[2] = absl::StrCat(
            "o='-o Dir::Etc::SourceList=", kAptSourcesFile,
            " -o Dir::Etc::SourceParts=", kAptSourcePartsDir,
            "' && apt-get $o update -qq && apt-get $o install -y -qq "
            "--no-install-recommends \"$@\" >/dev/null && apt-get clean");
      }
      out.argv.insert(out.argv.end(), packages.begin(), packages.end());
      out.env = {{"DEBIAN_FRONTEND", "noninteractive"}};
      return out;
    case PackageManager::kApk:
      // --no-cache: the index is fetched to a temporary place, never kept.
      out.argv = {"sh", "-c",
                  own_sources ? absl::StrCat("apk add --no-cache --quiet "
                                             "--repositories-file ",
                                             kApkRepositoriesFile, " \"$@\"")
                              : "apk add --no-cache --quiet \"$@\"",
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

absl::StatusOr<std::string> MirrorSources(PackageManager manager,
                                          const std::string& mirror,
                                          const std::string& codename,
                                          const std::string& version_id) {
  std::string m = mirror;
  while (!m.empty() && m.back() == '/') m.pop_back();
  auto plain = [](const std::string& s) {
    return !s.empty() && s.size() <= 64 &&
           s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") ==
               std::string::npos;
  };
  switch (manager) {
    case PackageManager::kDpkg:
      if (!plain(codename)) {
        return absl::FailedPreconditionError(
            "--mirror: the base's os-release names no VERSION_CODENAME for "
            "apt's sources");
      }
      return absl::StrCat("deb ", m, " ", codename, " main\n");
    case PackageManager::kApk: {
      std::vector<std::string> parts = absl::StrSplit(version_id, '.');
      if (!plain(version_id) || parts.size() < 2) {
        return absl::FailedPreconditionError(
            "--mirror: the base's os-release names no VERSION_ID "
            "(MAJOR.MINOR) for apk's repositories");
      }
      const std::string branch = absl::StrCat("v", parts[0], ".", parts[1]);
      return absl::StrCat(m, "/", branch, "/main\n", m, "/", branch,
                          "/community\n");
    }
    default:
      return absl::UnimplementedError(
          "the base's package manager is neither apt (dpkg) nor apk");
  }
}

}  // namespace pbrx::coordinator
