#include "common/bindep/bindep_file.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::common::bindep {
namespace {

using ::testing::ElementsAre;

std::vector<Profile> Singles(const Rule& r) {
  std::vector<Profile> out;
  for (const auto& item : r.selector) {
    if (!item.is_group) out.push_back(item.profile);
  }
  return out;
}

TEST(BindepFileTest, ParsesTheClassicPatterns) {
  auto f = ParseBindepFile(
      "foo\n"
      "bar [something]\n"
      "category/packagename # for gentoo\n"
      "baz [platform:this platform:that-those]\n"
      "quux [anotherthing !nothing] <=12\n"
      "womp # and a comment\n"
      "# a standalone comment and a blank line\n"
      "\n"
      "   \n"
      "# all's ok? good then\n",
      "bindep.txt");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->rules.size(), 6u);
  EXPECT_EQ(f->rules[0].name, "foo");
  EXPECT_EQ(f->rules[2].name, "category/packagename");
  EXPECT_EQ(f->rules[4].line, 5);
  EXPECT_THAT(Singles(f->rules[4]), ElementsAre(Profile{true, "anotherthing"},
                                                Profile{false, "nothing"}));
  EXPECT_THAT(f->rules[4].versions, ElementsAre(VersionConstraint{"<=", "12"}));
}

TEST(BindepFileTest, LineEndsAndFileDependenciesAsBindepReadsThem) {
  // CR LF and lone CR end lines (Python's universal newlines), and a name
  // may be a path (a file dependency).
  auto f = ParseBindepFile(
      "foo [compile]\r\nbar\rbaz [platform:rpm]\r\n/usr/bin/bash "
      "[platform:rpm]\n"
      "qux/sub\r",
      "bindep.txt");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->rules.size(), 5u);
  EXPECT_EQ(f->rules[0].name, "foo");
  EXPECT_EQ(f->rules[1].name, "bar");
  EXPECT_EQ(f->rules[2].name, "baz");
  EXPECT_EQ(f->rules[2].line, 3);
  EXPECT_EQ(f->rules[3].name, "/usr/bin/bash");
  EXPECT_EQ(f->rules[4].name, "qux/sub");
  // A name still never starts with '-' (it becomes an argument).
  EXPECT_FALSE(ParseBindepFile("-oops\r\n", "bindep.txt").ok());
}

TEST(BindepFileTest, SelectorsVersionsAndGroups) {
  auto f = ParseBindepFile(
      "foo [!bar baz quux]\n"
      "ver <=1,!=2,>=1:2.0-1ubuntu3~ppa1\n"
      "grp [platform:rpm (platform:redhat test) (a !b)]\n"
      "tight [a(b c)!d] >1\n"
      "spaced [ a  ( b  c ) ]\n"
      "empty []\n"
      "noeol [x]",
      "f");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->rules.size(), 7u) << f->rules.size();
  EXPECT_THAT(Singles(f->rules[0]),
              ElementsAre(Profile{false, "bar"}, Profile{true, "baz"},
                          Profile{true, "quux"}));
  EXPECT_THAT(
      f->rules[1].versions,
      ElementsAre(VersionConstraint{"<=", "1"}, VersionConstraint{"!=", "2"},
                  VersionConstraint{">=", "1:2.0-1ubuntu3~ppa1"}));
  const Rule& grp = f->rules[2];
  ASSERT_EQ(grp.selector.size(), 3u);
  EXPECT_FALSE(grp.selector[0].is_group);
  EXPECT_TRUE(grp.selector[1].is_group);
  EXPECT_THAT(
      grp.selector[1].group,
      ElementsAre(Profile{true, "platform:redhat"}, Profile{true, "test"}));
  EXPECT_THAT(grp.selector[2].group,
              ElementsAre(Profile{true, "a"}, Profile{false, "b"}));
  const Rule& tight = f->rules[3];
  ASSERT_EQ(tight.selector.size(), 3u);
  EXPECT_EQ(tight.selector[0].profile.name, "a");
  EXPECT_TRUE(tight.selector[1].is_group);
  EXPECT_EQ(tight.selector[2].profile, (Profile{false, "d"}));
  EXPECT_EQ(f->rules[4].selector.size(), 2u);
  EXPECT_TRUE(f->rules[5].selector.empty());
  EXPECT_EQ(f->rules[6].name, "noeol");
}

TEST(BindepFileTest, EmptyAndCommentOnlyFiles) {
  EXPECT_TRUE(ParseBindepFile("", "f")->rules.empty());
  EXPECT_TRUE(ParseBindepFile("# only\n\n", "f")->rules.empty());
}

struct BadCase {
  std::string content;
  std::string message;
};

class BindepFileErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BindepFileErrorTest, PreciseMessage) {
  auto f = ParseBindepFile(GetParam().content, "bindep.txt");
  ASSERT_FALSE(f.ok()) << GetParam().content;
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(f.status().message()), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BindepFileErrorTest,
    ::testing::Values(
        BadCase{"foo [platform:bar@baz]\n",
                "bindep.txt:1:18: expected ' ', '(', ']' or a profile name "
                "(a-z 0-9 : - .), "
                "found '@'"},
        BadCase{"ok\nx\n",
                "bindep.txt:2:2: expected a package name character (names have "
                "at least two), "
                "found end of line"},
        BadCase{"foo\tbar\n",
                "bindep.txt:1:4: expected ' ', '#' or end of line, found a tab "
                "(only spaces "
                "separate fields)"},
        BadCase{"foo [Test]\n",
                "bindep.txt:1:6: expected ' ', '(', ']' or a profile name (a-z "
                "0-9 : - .), "
                "found 'T'"},
        BadCase{"foo [test\n",
                "bindep.txt:1:10: expected ' ', '(', ']' or a profile name "
                "(a-z 0-9 : - .), "
                "found end of line"},
        BadCase{"foo >= 1\n",
                "bindep.txt:1:7: expected a version (starting with a digit), "
                "found ' '"},
        BadCase{"foo (>=1)\n",
                "bindep.txt:1:5: expected '#', '[' or a version operator (<, "
                "<=, ==, !=, >=, >), found '('"},
        BadCase{"foo ~=1\n",
                "bindep.txt:1:5: expected '#', '[' or a version operator (<, "
                "<=, ==, !=, >=, >), found '~'"},
        BadCase{"foo >=1, <2\n",
                "bindep.txt:1:9: expected a version operator (<, <=, ==, !=, "
                ">=, >), found ' '"},
        BadCase{"foo [a ((b))]\n",
                "bindep.txt:1:9: expected ' ', ')' or a profile name (a-z 0-9 "
                ": - .), found '('"},
        BadCase{"foo\r\n-bar\r\n",
                "bindep.txt:2:1: expected ' ', '#', a package name or end of "
                "line, found '-'"},
        BadCase{"-foo\n",
                "bindep.txt:1:1: expected ' ', '#', a package name or end of "
                "line, found '-'"},
        BadCase{"foo [a] [b]\n",
                "bindep.txt:1:9: expected '#' or a version operator (<, <=, "
                "==, !=, >=, >), "
                "found '['"}));

}  // namespace
}  // namespace pbrx::common::bindep
