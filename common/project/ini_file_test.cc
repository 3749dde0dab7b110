#include "common/project/ini_file.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::common::project {
namespace {

TEST(IniFileTest, ConfigparserSemantics) {
  auto ini = ParseIni(
      "# leading comment\n"
      "[metadata]\n"
      "name = foo\n"
      "Summary: colon delimiter = kept\n"
      "empty =\n"
      "multi =\n"
      "    first\n"
      "    ; indented comment is skipped\n"
      "\n"
      "    after blank\n"
      "inline = value # not a comment\n"
      "\n"
      "[entry_points]\n"
      "console_scripts =\n"
      "  a = m:f\n",
      "setup.cfg");
  ASSERT_TRUE(ini.ok()) << ini.status();
  const IniSection* md = ini->Find("metadata");
  ASSERT_NE(md, nullptr);
  EXPECT_EQ(md->Find("NAME")->value, "foo");
  EXPECT_EQ(md->Find("summary")->value, "colon delimiter = kept");
  EXPECT_EQ(md->Find("empty")->value, "");
  EXPECT_EQ(md->Find("multi")->value, "first\n\nafter blank");
  EXPECT_EQ(md->Find("inline")->value, "value # not a comment");
  EXPECT_EQ(md->Find("multi")->line, 6);
  EXPECT_EQ(ini->Find("entry_points")->Find("console_scripts")->value,
            "a = m:f");
  EXPECT_EQ(ini->Find("Metadata"),
            nullptr);  // section names are case-sensitive
}

struct Bad {
  std::string content, message;
};
class IniErrorTest : public ::testing::TestWithParam<Bad> {};

TEST_P(IniErrorTest, PreciseMessage) {
  auto ini = ParseIni(GetParam().content, "setup.cfg");
  ASSERT_FALSE(ini.ok());
  EXPECT_EQ(std::string(ini.status().message()), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, IniErrorTest,
    ::testing::Values(
        Bad{"name = x\n",
            "setup.cfg:1: key outside any section (the file must start with a "
            "[section] header)"},
        Bad{"[a]\nx = 1\n[b]\n[a]\n",
            "setup.cfg:4: duplicate section [a] (first at line 1)"},
        Bad{"[a]\nx = 1\nX: 2\n",
            "setup.cfg:3: duplicate key 'X' in section [a] (first at line 2)"},
        Bad{"[a]\njust words\n",
            "setup.cfg:2: expected 'key = value', a [section] header or a "
            "comment, got 'just words'"},
        Bad{"[a\n",
            "setup.cfg:1: malformed section header '[a' (expected [name])"},
        Bad{"[a]\n = 3\n", "setup.cfg:2: empty key before the delimiter"}));

}  // namespace
}  // namespace pbrx::common::project
