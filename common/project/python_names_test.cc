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

}  // namespace
}  // namespace pbrx::common::project
