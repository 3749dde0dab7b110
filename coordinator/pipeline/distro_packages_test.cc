#include "coordinator/pipeline/distro_packages.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

using common::bindep::PackageManager;
using ::testing::ElementsAre;

TEST(InstallPackagesCommandTest, AptInstallsWithoutRecommendsAndCleans) {
  auto c = InstallPackagesCommand(PackageManager::kDpkg, {"gcc", "libffi-dev"});
  ASSERT_TRUE(c.ok()) << c.status();
  // The script text is fixed; the packages are its arguments.
  EXPECT_THAT(c->argv,
              ElementsAre("sh", "-c",
                          "apt-get update -qq && apt-get install -y -qq "
                          "--no-install-recommends \"$@\" >/dev/null "
                          "&& apt-get clean",
                          "install-packages", "gcc", "libffi-dev"));
  EXPECT_EQ(c->env.at("DEBIAN_FRONTEND"), "noninteractive");
}

TEST(InstallPackagesCommandTest, ApkKeepsNoIndex) {
  auto c = InstallPackagesCommand(PackageManager::kApk,
                                  {"gcc", "musl-dev", "libffi-dev"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->argv,
              ElementsAre("sh", "-c", "apk add --no-cache --quiet \"$@\"",
                          "install-packages", "gcc", "musl-dev", "libffi-dev"));
  EXPECT_TRUE(c->env.empty());
}

TEST(InstallPackagesCommandTest, AMirrorsSourcesComeFromTheInputRoot) {
  auto apt = InstallPackagesCommand(PackageManager::kDpkg, {"gcc"}, true);
  ASSERT_TRUE(apt.ok()) << apt.status();
  EXPECT_THAT(apt->argv,
              ElementsAre("sh", "-c",
                          "o='-o Dir::Etc::SourceList=/work/sources.list -o "
                          "Dir::Etc::SourceParts=/work/sources.list.d' && "
                          "apt-get $o update -qq && apt-get $o install -y -qq "
                          "--no-install-recommends \"$@\" >/dev/null && "
                          "apt-get clean",
                          "install-packages", "gcc"));
  auto apk = InstallPackagesCommand(PackageManager::kApk, {"gcc"}, true);
  ASSERT_TRUE(apk.ok()) << apk.status();
  EXPECT_EQ(apk->argv[2],
            "apk add --no-cache --quiet --repositories-file /work/repositories "
            "\"$@\"");
  EXPECT_EQ(MirrorSources(PackageManager::kDpkg,
                          "http://mirror.example/debian/", "bookworm", "12")
                .value(),
            "deb http://mirror.example/debian bookworm main\n");
  EXPECT_EQ(MirrorSources(PackageManager::kApk, "https://mirror.example/alpine",
                          "", "3.19.1")
                .value(),
            "https://mirror.example/alpine/v3.19/main\n"
            "https://mirror.example/alpine/v3.19/community\n");
  auto none = MirrorSources(PackageManager::kDpkg, "http://m/debian", "", "");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(none.status().message(),
            "--mirror: the base's os-release names no VERSION_CODENAME for "
            "apt's sources");
  auto bad =
      MirrorSources(PackageManager::kApk, "http://m/alpine", "", "3;reboot");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(InstallPackagesCommandTest, VersionAndArchQualifiersPass) {
  EXPECT_TRUE(InstallPackagesCommand(PackageManager::kDpkg,
                                     {"libc6:amd64", "zlib1g=1:1.2"})
                  .ok());
  EXPECT_TRUE(InstallPackagesCommand(PackageManager::kApk, {"g++"}).ok());
}

TEST(InstallPackagesCommandTest, RefusesShellMetacharactersAndEmptyLists) {
  auto c = InstallPackagesCommand(PackageManager::kDpkg, {"gcc;rm -rf /"});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "'gcc;rm -rf /' is not a distro package name");
  EXPECT_EQ(
      InstallPackagesCommand(PackageManager::kDpkg, {"-y"}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InstallPackagesCommand(PackageManager::kApk, {}).status().message(),
            "no packages to install");
}

TEST(InstallPackagesCommandTest, OtherPackageManagersAreUnimplemented) {
  auto c = InstallPackagesCommand(PackageManager::kRpm, {"gcc"});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(c.status().message(),
            "the base's package manager is neither apt (dpkg) nor apk");
}

TEST(BuildToolPackagesTest, DistroNamesPerBackend) {
  EXPECT_THAT(
      *BuildToolPackages(PackageManager::kDpkg, "setuptools"),
      ElementsAre("python3-pip", "python3-setuptools", "python3-wheel"));
  EXPECT_THAT(*BuildToolPackages(PackageManager::kDpkg, "pbr"),
              ElementsAre("python3-pip", "python3-setuptools", "python3-wheel",
                          "python3-pbr", "git"));
  EXPECT_THAT(
      *BuildToolPackages(PackageManager::kApk, "pbr"),
      ElementsAre("py3-pip", "py3-setuptools", "py3-wheel", "py3-pbr", "git"));
  EXPECT_THAT(*BuildToolPackages(PackageManager::kDpkg, "hatchling.build"),
              ElementsAre("python3-pip", "python3-setuptools", "python3-wheel",
                          "python3-hatchling"));
  EXPECT_THAT(*BuildToolPackages(PackageManager::kDpkg, "flit_core.buildapi"),
              ElementsAre("python3-pip", "python3-setuptools", "python3-wheel",
                          "flit"));
  EXPECT_THAT(
      *BuildToolPackages(PackageManager::kApk, "poetry.core.masonry.api"),
      ElementsAre("py3-pip", "py3-setuptools", "py3-wheel", "py3-poetry-core"));
  EXPECT_THAT(
      *BuildToolPackages(PackageManager::kDpkg, "mystery.backend"),
      ElementsAre("python3-pip", "python3-setuptools", "python3-wheel"));
  EXPECT_EQ(
      BuildToolPackages(PackageManager::kPacman, "setuptools").status().code(),
      absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace pbrx::coordinator
