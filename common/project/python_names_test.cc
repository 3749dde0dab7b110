#include "common/project/python_names.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::common::project {
namespace {

TEST(PythonNamesTest, Normalize) {
  EXPECT_EQ(NormalizeName("Acme.Tools"), "acme-tools");
  EXPECT_EQ(NormalizeName("my__weird-._Name"), "my-weird-name");
  EXPECT_EQ(NormalizeName("acme_tools_base"), NormalizeName("acme-tools-base"));
}

TEST(PythonNamesTest, RequirementName) {
  EXPECT_EQ(*RequirementName("uvicorn[standard]>=0.20; python_version>='3.8'"),
            "uvicorn");
  EXPECT_EQ(*RequirementName("  PyYAML >= 5"), "PyYAML");
  EXPECT_EQ(*RequirementName("zope.interface"), "zope.interface");
  EXPECT_EQ(RequirementName(">=1.0").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RequirementName("-foo").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PythonNamesTest, RequirementsFile) {
  auto r = ParseRequirementsFile(
      "# comment\npbr>=5 # Apache\n\n-r other.txt\n--index-url "
      "http://x\nrequests\n",
      "req.txt");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->requirements, ::testing::ElementsAre("pbr>=5", "requests"));
  EXPECT_THAT(r->skipped,
              ::testing::ElementsAre("-r other.txt", "--index-url http://x"));
  auto bad = ParseRequirementsFile("ok\n>=2\n", "req.txt");
  EXPECT_EQ(std::string(bad.status().message()),
            "req.txt:2: '>=2' does not start with a project name");
}

TEST(PythonNamesTest, ScriptNamesAreFileNames) {
  for (const char* ok : {"hello", "hello-pbrx", "_x", "a.b+c", "X9"})
    EXPECT_TRUE(IsScriptName(ok)) << ok;
  for (const char* bad : {"", "-x", ".x", "a/b", "..", "a b", "x;y", "a\nb"})
    EXPECT_FALSE(IsScriptName(bad)) << bad;
  EXPECT_TRUE(IsScriptName(std::string(128, 'a')));
  EXPECT_FALSE(IsScriptName(std::string(129, 'a')));
}

TEST(PythonNamesTest, DottedIdentifiers) {
  for (const char* ok : {"a", "a.b", "_a1.b_2", "pkg.sub.mod"})
    EXPECT_TRUE(IsDottedIdentifier(ok)) << ok;
  for (const char* bad : {"", ".", "a.", ".a", "a..b", "1a", "a.1b", "a b",
                          "os.system('id')", "a-b"})
    EXPECT_FALSE(IsDottedIdentifier(bad)) << bad;
  // Linear, no recursion: a 1 MB path.
  std::string huge;
  for (int i = 0; i < 500000; ++i) huge += "a.";
  EXPECT_FALSE(IsDottedIdentifier(huge));
  huge += "a";
  EXPECT_TRUE(IsDottedIdentifier(huge));
}

TEST(PythonNamesTest, EntryPoints) {
  EXPECT_TRUE(CheckEntryPoint("x", "pkg.mod:main").ok());
  EXPECT_TRUE(CheckEntryPoint("x", " pkg.mod : Cls.run [fast, extra-2] ").ok());
  EXPECT_EQ(CheckEntryPoint("x", "os:system('id')").message(),
            "entry point 'x = os:system('id')' is not 'name = "
            "module.path:attr.path' with Python identifiers");
  EXPECT_EQ(CheckEntryPoint("x", "pkg.mod").message(),
            "entry point 'x = pkg.mod' is not 'name = module.path:attr.path' "
            "with Python identifiers");
  EXPECT_EQ(CheckEntryPoint("../x", "m:f").message(),
            "entry point '../x = m:f' has a name that is not a file name "
            "(letters, digits, . _ + -, at most 128)");
  EXPECT_EQ(CheckEntryPoint("x", "m:f [a").message(),
            "entry point 'x = m:f [a' has unterminated extras");
  EXPECT_EQ(CheckEntryPoint("x", "m:f [a;b]").message(),
            "entry point 'x = m:f [a;b]' has an extra that is not a valid "
            "name");
}

TEST(PythonNamesTest, VersionText) {
  for (const char* ok : {"1", "1.0.post1", "2!1.0+local_1", "1.0-rc1"})
    EXPECT_TRUE(IsVersionText(ok)) << ok;
  for (const char* bad : {"", "1;x", "1 0", "1/2", "$(id)"})
    EXPECT_FALSE(IsVersionText(bad)) << bad;
  EXPECT_FALSE(IsVersionText(std::string(65, '1')));
}

}  // namespace
}  // namespace pbrx::common::project
