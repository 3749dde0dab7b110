#include "common/bindep/selection.h"

#include <algorithm>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::common::bindep {
namespace {

using ::testing::ElementsAre;

constexpr char kMatrix[] =
    "install1\n"
    "install2 [test]\n"
    "install3 [platform:rpm]\n"
    "install4 [platform:dpkg]\n"
    "install5 [quark]\n"
    "install6 [platform:dpkg test]\n"
    "install7 [quark test]\n"
    "install8 [platform:dpkg platform:rpm]\n"
    "install9 [platform:dpkg platform:rpm test]\n"
    "installA [!platform:dpkg]\n"
    "installB [!platform:dpkg test]\n"
    "installC [!platform:dpkg !test]\n"
    "installD [platform:dpkg !test]\n"
    "installE [platform:dpkg !platform:rpm]\n"
    "installF [platform:dpkg !platform:rpm test]\n"
    "installG [!platform:dpkg !platform:rpm]\n"
    "installH [!platform:dpkg !platform:rpm test]\n"
    "installI [!platform:dpkg !platform:rpm !test]\n"
    "installJ [platform:dpkg !platform:rpm !test]\n";

std::string Active(const std::string& content, const std::string& profiles) {
  auto f = ParseBindepFile(content, "f");
  EXPECT_TRUE(f.ok()) << f.status();
  absl::flat_hash_set<std::string> set;
  for (absl::string_view p : absl::StrSplit(profiles, ' ', absl::SkipEmpty())) {
    set.insert(std::string(p));
  }
  std::string out;
  for (const Rule& r : ActiveRules(*f, set))
    out += (out.empty() ? "" : " ") + r.name;
  return out;
}

struct MatrixCase {
  std::string profiles;
  std::string active;
};

class MatrixTest : public ::testing::TestWithParam<MatrixCase> {};

TEST_P(MatrixTest, ClassicNineteenRules) {
  EXPECT_EQ(Active(kMatrix, GetParam().profiles), GetParam().active);
}

INSTANTIATE_TEST_SUITE_P(
    DpkgRpmWithAndWithoutTest, MatrixTest,
    ::testing::Values(
        MatrixCase{"platform:dpkg",
                   "install1 install4 install8 installD installE installJ"},
        MatrixCase{"platform:dpkg test",
                   "install1 install2 install4 install6 install7 install8 "
                   "install9 installE "
                   "installF"},
        MatrixCase{"platform:rpm",
                   "install1 install3 install8 installA installC"},
        MatrixCase{"platform:rpm test",
                   "install1 install2 install3 install7 install8 install9 "
                   "installA installB"}));

TEST(SelectionTest, DefaultProfileRules) {
  std::string f =
      "always\n"
      "dflt [default]\n"
      "notdflt [!default]\n"
      "compileonly [compile]\n";
  EXPECT_EQ(Active(f, "default platform:dpkg"), "always dflt");
  EXPECT_EQ(Active(f, "compile platform:dpkg"), "always notdflt compileonly");
}

TEST(SelectionTest, GroupsAreAndAndCountInTheUserHalf) {
  std::string f =
      "both [(platform:rpm test)]\n"
      "bothneg [(platform:rpm !test)]\n"
      "either [(platform:rpm test) (platform:dpkg doc)]\n"
      "groupandneg [(platform:rpm test) !doc]\n"
      "platformonly [platform:rpm (test)]\n"
      "emptygroup [()]\n";
  EXPECT_EQ(Active(f, "platform:rpm"), "bothneg emptygroup");
  EXPECT_EQ(Active(f, "platform:rpm test"),
            "both either groupandneg platformonly emptygroup");
  EXPECT_EQ(Active(f, "platform:rpm test doc"),
            "both either platformonly emptygroup");
  EXPECT_EQ(Active(f, "platform:dpkg doc"), "either emptygroup");
}

TEST(SelectionTest, HalfWithOnlyNegativesPasses) {
  EXPECT_EQ(Active("foo [!off]\n", "on"), "foo");
  EXPECT_EQ(Active("foo [!off]\n", "on off"), "");
  EXPECT_EQ(Active("foo [!platform:rpm]\n", "platform:dpkg"), "foo");
}

TEST(SelectionTest, ConfigurationProfilesExcludePlatformOnes) {
  auto f = ParseBindepFile(
      "foo\nbar [something platform:dpkg]\nquux [anotherthing !nothing (grp "
      "platform:rpm)] <=12\n",
      "f");
  EXPECT_THAT(ConfigurationProfiles(*f),
              ElementsAre("anotherthing", "grp", "nothing", "something"));
}

}  // namespace
}  // namespace pbrx::common::bindep
