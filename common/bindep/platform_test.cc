#include "common/bindep/platform.h"

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::common::bindep {
namespace {

struct OsCase {
  std::string label;
  std::string os_release;
  std::string atoms;  // space-joined, without the "platform:" prefix
  PackageManager pm;
};

class PlatformTest : public ::testing::TestWithParam<OsCase> {};

TEST_P(PlatformTest, AtomsAsBindepDerivesThem) {
  auto fields = ParseOsRelease(GetParam().os_release, "os-release");
  ASSERT_TRUE(fields.ok()) << fields.status();
  auto platform = PlatformFromDistro(DistroFromOsRelease(*fields));
  ASSERT_TRUE(platform.ok()) << platform.status();
  std::vector<std::string> bare;
  for (const std::string& a : platform->atoms) {
    ASSERT_EQ(a.rfind("platform:", 0), 0u) << a;
    bare.push_back(a.substr(9));
  }
  EXPECT_EQ(absl::StrJoin(bare, " "), GetParam().atoms);
  EXPECT_EQ(platform->package_manager, GetParam().pm);
}

INSTANTIATE_TEST_SUITE_P(
    Distros, PlatformTest,
    ::testing::Values(
        OsCase{"Debian12",
               "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian "
               "GNU/Linux\"\n"
               "VERSION_ID=\"12\"\nVERSION=\"12 "
               "(bookworm)\"\nVERSION_CODENAME=bookworm\n"
               "ID=debian\nHOME_URL=\"https://www.debian.org/\"\n",
               "debian debian-12 debian-bookworm dpkg", PackageManager::kDpkg},
        OsCase{"Ubuntu2204",
               "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.3 LTS "
               "(Jammy Jellyfish)\"\n"
               "VERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_"
               "CODENAME=jammy\n",
               "dpkg ubuntu ubuntu-22 ubuntu-22.04 ubuntu-jammy",
               PackageManager::kDpkg},
        OsCase{"UbuntuXenialNoCodenameField",
               "NAME=\"Ubuntu\"\nVERSION=\"16.04.7 LTS (Xenial "
               "Xerus)\"\nID=ubuntu\n"
               "VERSION_ID=\"16.04\"\n",
               "dpkg ubuntu ubuntu-16 ubuntu-16.04 ubuntu-xenial "
               "ubuntu-xenial-xerus",
               PackageManager::kDpkg},
        OsCase{"Alpine",
               "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n"
               "PRETTY_NAME=\"Alpine Linux v3.19\"\n",
               "alpine alpine-3 alpine-3.19 alpine-3.19.1 apk",
               PackageManager::kApk},
        OsCase{"Fedora39",
               "NAME=\"Fedora Linux\"\nVERSION=\"39 (Container "
               "Image)\"\nID=fedora\n"
               "VERSION_ID=39\nVERSION_CODENAME=\"\"\n",
               "fedora fedora-39 redhat rpm", PackageManager::kRpm},
        OsCase{"CentOS7",
               "NAME=\"CentOS Linux\"\nVERSION=\"7 "
               "(Core)\"\nID=\"centos\"\nID_LIKE=\"rhel "
               "fedora\"\nVERSION_ID=\"7\"\n",
               "centos centos-7 centos-core redhat rpm", PackageManager::kRpm},
        OsCase{"Rhel9Server",
               "NAME=\"Red Hat Enterprise Linux Server\"\nVERSION=\"9.3 "
               "(Plow)\"\nID=\"rhel\"\n"
               "VERSION_ID=\"9.3\"\n",
               "redhat redhatenterpriseserver redhatenterpriseserver-9 "
               "redhatenterpriseserver-9.3 redhatenterpriseserver-plow rhel "
               "rhel-9 rhel-9.3 "
               "rhel-plow rpm",
               PackageManager::kRpm},
        OsCase{
            "OpenSuseLeap",
            "NAME=\"openSUSE Leap\"\nVERSION=\"15.5\"\nID=\"opensuse-leap\"\n"
            "VERSION_ID=\"15.5\"\n",
            "opensuse opensuse-15 opensuse-15.5 opensuseproject "
            "opensuseproject-15 "
            "opensuseproject-15.5 rpm suse",
            PackageManager::kRpm},
        OsCase{"Sles15",
               "NAME=\"SLES\"\nVERSION=\"15-SP5\"\nVERSION_ID=\"15.5\"\nID="
               "\"sles\"\n",
               "rpm sles sles-15 sles-15.5 suse suselinux suselinux-15 "
               "suselinux-15.5",
               PackageManager::kRpm},
        OsCase{"OracleLinux",
               "NAME=\"Oracle Linux "
               "Server\"\nVERSION=\"8.9\"\nID=\"ol\"\nVERSION_ID=\"8.9\"\n",
               "ol ol-8 ol-8.9 oracle oracle-8 oracle-8.9 redhat rpm",
               PackageManager::kRpm},
        OsCase{"Arch",
               "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch "
               "Linux\"\nID=arch\nBUILD_ID=rolling\n",
               "arch arch- pacman", PackageManager::kPacman},
        OsCase{"Gentoo",
               "NAME=Gentoo\nID=gentoo\nPRETTY_NAME=\"Gentoo "
               "Linux\"\nVERSION_ID=\"2.14\"\n",
               "emerge gentoo gentoo-2 gentoo-2.14", PackageManager::kEmerge},
        OsCase{"Unknown", "ID=\"Acme OS\"\nVERSION_ID=1\n", "acme_os acme_os-1",
               PackageManager::kUnknown}),
    [](const auto& info) { return info.param.label; });

TEST(PlatformTest, MissingIdIsAnError) {
  auto fields = ParseOsRelease("NAME=nothing\n", "f");
  auto p = PlatformFromDistro(DistroFromOsRelease(*fields));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(p.status().message()),
              ::testing::HasSubstr("Unable to determine distro ID"));
}

TEST(PlatformTest, OsReleaseQuotingAndComments) {
  auto fields = ParseOsRelease(
      "# comment\nA='single quoted $x'\nB=\"double \\\"esc\\\" "
      "\\$y\"\nC=plain\n",
      "f");
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(fields->at("a"), "single quoted $x");
  EXPECT_EQ(fields->at("b"), "double \"esc\" $y");
  EXPECT_EQ(fields->at("c"), "plain");
  auto bad = ParseOsRelease("A=ok\nB=\"open\n", "etc/os-release");
  EXPECT_EQ(bad.status().message(), "etc/os-release:2: unterminated quote");
}

TEST(PlatformTest, CodenameFromVersionAsBindepsRegexFindsIt) {
  // bindep: re.search(r'\((\D+)\)|,\s*(\D+)', VERSION), first match wins.
  // (The expected values are what Python 3.11's re gives.)
  struct Case {
    std::string version, codename;
  };
  for (const Case& c : std::vector<Case>{
           {"12 (bookworm)", "bookworm"},
           {"16.04.7 LTS (Xenial Xerus)", "xenial xerus"},
           {"7.9 (Maipo) (x)", "maipo) (x"},  // greedy up to the last ')'
           {"1 (a) 2 (b)", "a"},              // the run ends at the digit
           {"()(x)", ")(x"},  // "(" then the longest run to a ")"
           {"15 (1)", ""},
           {"6, Tikanga", "tikanga"},
           {"6,  \t", "\t"},  // \s* gives one back to \D+
           {"6,7", ""},
           {"(a, b)", "a, b"},
           {"x, y (z)", "y (z)"},  // the comma comes first
           {"", ""}}) {
    auto fields = ParseOsRelease("ID=x\nVERSION='" + c.version + "'\n", "f");
    ASSERT_TRUE(fields.ok()) << c.version;
    EXPECT_EQ(DistroFromOsRelease(*fields).codename, c.codename) << c.version;
  }
}

TEST(PlatformTest, HugeVersionIsScannedNotRecursed) {
  // A base image author's 500 kB VERSION: a backtracking regex recursed
  // once per character here and overflowed the stack.
  std::string version = "(" + std::string(500 * 1024, 'a') + ")";
  auto fields = ParseOsRelease("ID=debian\nVERSION=\"" + version + "\"\n", "f");
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(DistroFromOsRelease(*fields).codename.size(), 500u * 1024);
  std::string comma = "1," + std::string(500 * 1024, ' ') + "x";
  fields = ParseOsRelease("ID=debian\nVERSION=\"" + comma + "\"\n", "f");
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(DistroFromOsRelease(*fields).codename, "x");
}

TEST(PlatformTest, OnlyAssignmentsToIdentifiersAreFields) {
  auto fields =
      ParseOsRelease("=alpine\nID=debian\n1X=y\nA-B=z\nX_1=ok\n", "f");
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(fields->size(), 2u);
  EXPECT_EQ(fields->at("id"), "debian");
  EXPECT_EQ(fields->at("x_1"), "ok");
}

TEST(PlatformTest, ExplicitSelectors) {
  Platform p =
      PlatformFromSelectors({"platform:rpm", "centos", "platform:rpm"});
  EXPECT_THAT(p.atoms,
              ::testing::ElementsAre("platform:centos", "platform:rpm"));
  EXPECT_EQ(p.package_manager, PackageManager::kRpm);
  EXPECT_EQ(PlatformFromSelectors({"platform:alpine"}).package_manager,
            PackageManager::kUnknown);
}

}  // namespace
}  // namespace pbrx::common::bindep
