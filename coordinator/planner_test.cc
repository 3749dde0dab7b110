#include "coordinator/planner.h"

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

using common::project::ConsoleScript;
using common::project::Project;
using ::testing::ElementsAre;

Project Sample() {
  Project p;
  p.dir = "proj";
  p.name = "my-app";
  p.version = "1.0";
  p.scripts = {ConsoleScript{"my-cli", "my_app.cli:main"},
               ConsoleScript{"Other", "m:f"}};
  p.extras["My.App-Base"] = {"rich"};  // PEP 685 spelling of my_app_base
  p.extras["my_cli"] = {"click"};
  return p;
}

TEST(PlannerTest, LatestOnlyWhenNoTagIsGiven) {
  PlanOptions o;
  ProjectPlan plan = PlanProject(Sample(), std::nullopt, o);
  ASSERT_EQ(plan.images.size(), 3u);
  EXPECT_THAT(plan.images[0].refs, ElementsAre("my-app-base:latest"));
  o.tags = {"v1", "1.0"};
  plan = PlanProject(Sample(), std::nullopt, o);
  EXPECT_THAT(plan.images[1].refs, ElementsAre("my-cli:v1", "my-cli:1.0"));
}

TEST(PlannerTest, NamesExtrasAndCmds) {
  PlanOptions o;
  o.prefix = "team";
  o.tags = {"v2", "latest", "v2"};
  ProjectPlan plan = PlanProject(Sample(), std::nullopt, o);
  ASSERT_EQ(plan.images.size(), 3u);
  EXPECT_EQ(plan.images[0].name, "team/my-app-base");
  EXPECT_THAT(plan.images[0].refs,
              ElementsAre("team/my-app-base:v2", "team/my-app-base:latest"));
  EXPECT_EQ(plan.images[0].wanted_extra, "my_app_base");
  EXPECT_THAT(plan.images[0].extras, ElementsAre("My.App-Base"));
  EXPECT_EQ(plan.images[1].name, "team/my-cli");
  EXPECT_THAT(plan.images[1].cmd, ElementsAre("/usr/local/bin/my-cli"));
  EXPECT_THAT(plan.images[1].extras, ElementsAre("my_cli"));
  EXPECT_EQ(plan.images[2].name, "team/other");  // image names are lower case
  EXPECT_THAT(plan.images[2].cmd, ElementsAre("/usr/local/bin/Other"));
  EXPECT_THAT(
      plan.warnings,
      ElementsAre(
          "my-app 1.0 does not provide the extra 'Other' (image team/other)"));
}

TEST(PlannerTest, NoWarningWhenExtrasAreDynamic) {
  Project p = Sample();
  p.extras.clear();
  p.dynamic = {"optional-dependencies"};
  EXPECT_TRUE(PlanProject(p, std::nullopt, PlanOptions{}).warnings.empty());
}

TEST(PlannerTest, CompileAndRuntimeSplit) {
  auto bindep = common::bindep::ParseBindepFile(
      "gcc [compile]\nlibfoo-dev [compile platform:dpkg]\nlibfoo1 "
      "[platform:dpkg]\n"
      "tool [!compile]\ndup\ndup [compile]\n",
      "bindep.txt");
  ASSERT_TRUE(bindep.ok());
  PlanOptions o;
  o.platform_atoms = {"platform:debian", "platform:dpkg"};
  ProjectPlan plan = PlanProject(Sample(), *bindep, o);
  EXPECT_THAT(plan.compile_packages,
              ElementsAre("gcc", "libfoo-dev", "libfoo1", "dup"));
  EXPECT_THAT(plan.runtime_packages, ElementsAre("libfoo1", "tool", "dup"));
}

TEST(PlannerTest, ValidateOptions) {
  EXPECT_TRUE(
      ValidatePlanOptions(PlanOptions{"localhost:5000/a/b", {"1.0_rc-1"}, {}})
          .ok());
  EXPECT_TRUE(ValidatePlanOptions(PlanOptions{"quay.io/org", {}, {}}).ok());
  EXPECT_FALSE(ValidatePlanOptions(PlanOptions{"Org", {}, {}}).ok());
  EXPECT_FALSE(ValidatePlanOptions(PlanOptions{"a//b", {}, {}}).ok());
  EXPECT_FALSE(ValidatePlanOptions(PlanOptions{"a/", {}, {}}).ok());
  EXPECT_FALSE(ValidatePlanOptions(PlanOptions{"", {".x"}, {}}).ok());
  EXPECT_FALSE(
      ValidatePlanOptions(PlanOptions{"", {std::string(129, 'a')}, {}}).ok());
}

TEST(PlannerTest, Clashes) {
  Project a = Sample();
  Project b = Sample();
  b.dir = "other";
  b.name = "different";
  std::vector<ProjectPlan> plans = {
      PlanProject(a, std::nullopt, PlanOptions{}),
      PlanProject(b, std::nullopt, PlanOptions{})};
  EXPECT_THAT(
      FindImageClashes(plans),
      ElementsAre("image 'my-cli' of project other clashes with project proj "
                  "(duplicate script name 'my-cli')",
                  "image 'other' of project other clashes with project proj "
                  "(duplicate script name 'Other')"));
}

}  // namespace
}  // namespace pbrx::coordinator

namespace pbrx::coordinator {
namespace {

TEST(PlannerTest, ProjectSettingsUnlessPinned) {
  common::project::Project p = Sample();
  p.pbrx.prefix = "proj.example/team";
  p.pbrx.tags = std::vector<std::string>{"p1"};
  p.pbrx.extra_packages = {"libpq5"};
  p.pbrx.line = 7;
  PlanOptions o;
  o.prefix = "settings.example";
  o.tags = {"s1"};
  ProjectPlan plan = PlanProject(p, std::nullopt, o);
  EXPECT_THAT(plan.images[0].refs,
              ElementsAre("proj.example/team/my-app-base:p1"));
  EXPECT_THAT(plan.runtime_packages, ElementsAre("libpq5"));
  o.pinned = {"prefix"};
  plan = PlanProject(p, std::nullopt, o);
  EXPECT_THAT(plan.images[0].refs,
              ElementsAre("settings.example/my-app-base:p1"));
  o.pinned = {"prefix", "tags"};
  plan = PlanProject(p, std::nullopt, o);
  EXPECT_THAT(plan.images[0].refs,
              ElementsAre("settings.example/my-app-base:s1"));
  p.pbrx.tags = std::vector<std::string>{"bad tag"};
  absl::StatusOr<Naming> n = EffectiveNaming(p, o);
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(n.status().message(),
                               "pyproject.toml:7: [tool.pbrx] --tag 'bad "
                               "tag'"))
      << n.status();
}

}  // namespace
}  // namespace pbrx::coordinator
