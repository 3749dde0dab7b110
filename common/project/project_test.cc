#include "common/project/project.h"

#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::common::project {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::string Fixture(const std::string& name) {
  return testing_util::DereferencedCopy(
      std::string(std::getenv("TEST_SRCDIR")) +
      "/pbrx/tests/fixtures/projects/" + name);
}

std::vector<std::string> ScriptNames(const Project& p) {
  std::vector<std::string> out;
  for (const auto& s : p.scripts) out.push_back(s.name + "=" + s.entry_point);
  return out;
}

TEST(ProjectTest, PbrServiceWithCExtensionDependency) {
  auto p = LoadProject(Fixture("pbr-service"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "pbrx-example-service");
  EXPECT_EQ(p->backend, "pbr");
  EXPECT_EQ(p->metadata_source, "setup.cfg");
  EXPECT_FALSE(p->version.has_value());  // pbr: from git / PBR_VERSION
  EXPECT_THAT(p->dynamic, ElementsAre("version"));
  EXPECT_THAT(ScriptNames(*p),
              ElementsAre("example-api=example_service.cmd.api:main",
                          "example-manage=example_service.cmd.manage:main"));
  EXPECT_THAT(p->requirements, ElementsAre("pbr>=5.8.0", "cffi>=1.15.0",
                                           "requests>=2.25.0", "PyYAML>=5.4"));
  EXPECT_THAT(
      p->extras,
      ElementsAre(Pair("example_api", ElementsAre("gunicorn>=20.1",
                                                  "uvicorn[standard]>=0.20; "
                                                  "python_version>=\"3.8\"")),
                  Pair("pbrx_example_service_base",
                       ElementsAre("python-memcached>=1.59"))));
  EXPECT_EQ(p->bindep_file, "bindep.txt");
  EXPECT_THAT(
      p->warnings,
      ElementsAre(
          "requirements.txt: option line '-c "
          "https://releases.example.org/constraints/upper/master' is not a "
          "requirement and was skipped"));
}

TEST(ProjectTest, Pep621WithTwoScriptsAndExtras) {
  auto p = LoadProject(Fixture("pep621-tools"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "Acme.Tools");
  EXPECT_EQ(p->version, "1.4.0");
  EXPECT_EQ(p->backend, "hatchling.build");
  EXPECT_TRUE(p->dynamic.empty());
  EXPECT_THAT(ScriptNames(*p),
              ElementsAre("acme-sync=acme_tools.sync:main",
                          "acme-report=acme_tools.report:main"));
  EXPECT_THAT(p->requirements, ElementsAre("click>=8.1", "attrs>=22.2"));
  EXPECT_EQ(p->extras.size(), 3u);
  EXPECT_THAT(p->extras.at("acme-report"),
              ElementsAre("jinja2>=3.1", "markupsafe>=2.1"));
}

TEST(ProjectTest, SetuptoolsDeclarative) {
  auto p = LoadProject(Fixture("setuptools-declarative"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "webhook_relay");
  EXPECT_EQ(p->backend, "setuptools");
  EXPECT_EQ(p->version, "0.9.2");
  EXPECT_THAT(p->requirements,
              ElementsAre("aiohttp>=3.8",
                          "cryptography>=41 ; platform_system != \"Windows\""));
  EXPECT_THAT(p->extras.at("relay_worker"),
              ElementsAre("uvloop>=0.17", "redis>=4.5"));
  EXPECT_THAT(ScriptNames(*p),
              ElementsAre("relay-server=webhook_relay.server:run",
                          "relay_worker=webhook_relay.worker:run"));
  EXPECT_EQ(p->bindep_file, "");
}

TEST(ProjectTest, SetupPyOnlyIsDynamicNeverGuessed) {
  auto p = LoadProject(Fixture("setuppy-only"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "");
  EXPECT_EQ(p->metadata_source, "setup.py");
  EXPECT_TRUE(p->IsDynamic("scripts"));
  EXPECT_TRUE(p->scripts.empty());
}

TEST(ProjectTest, Pep621Dynamic) {
  auto p = LoadProject(Fixture("pep621-dynamic"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "scm-versioned");
  EXPECT_FALSE(p->version.has_value());
  EXPECT_TRUE(p->IsDynamic("version"));
  EXPECT_TRUE(p->IsDynamic("dependencies"));
  EXPECT_FALSE(p->IsDynamic("scripts"));
}

struct Bad {
  std::string label;
  ProjectFiles files;
  std::string message;
};
class ProjectErrorTest : public ::testing::TestWithParam<Bad> {};

TEST_P(ProjectErrorTest, PreciseMessage) {
  auto p = ProjectFromFiles("proj", GetParam().files);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(std::string(p.status().message()), GetParam().message);
}

ProjectFiles Cfg(std::string cfg) {
  ProjectFiles f;
  f.setup_cfg = std::move(cfg);
  return f;
}
ProjectFiles Toml(std::string toml) {
  ProjectFiles f;
  f.pyproject_toml = std::move(toml);
  return f;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ProjectErrorTest,
    ::testing::Values(
        Bad{"NoFiles", ProjectFiles{},
            "proj: not a Python project (no pyproject.toml, setup.cfg or "
            "setup.py)"},
        Bad{"CfgNoName", Cfg("[metadata]\nsummary = x\n"),
            "setup.cfg:1: [metadata] has no name: the project has no name"},
        Bad{"CfgNoMetadata", Cfg("[options]\nx = 1\n"),
            "setup.cfg: [metadata] has no name: the project has no name"},
        Bad{"CfgBadName", Cfg("[metadata]\nname = bad name!\n"),
            "setup.cfg:2: 'bad name!' is not a valid project name"},
        Bad{"CfgBadScript",
            Cfg("[metadata]\nname = x\n[entry_points]\nconsole_scripts =\n  "
                "just-a-name\n"),
            "setup.cfg:4: console_scripts entry 'just-a-name' is not of the "
            "form 'name = "
            "module:function'"},
        Bad{"CfgDupScript",
            Cfg("[metadata]\nname = x\n[entry_points]\nconsole_scripts =\n  a "
                "= m:f\n  a = "
                "m:g\n"),
            "setup.cfg:4: console script 'a' is defined twice"},
        Bad{"CfgBadIni", Cfg("[metadata]\nname = x\nname = y\n"),
            "setup.cfg:3: duplicate key 'name' in section [metadata] (first at "
            "line 2)"},
        Bad{"TomlSyntax", Toml("[project\nname = 'x'\n"),
            "pyproject.toml:1:9: Error while parsing table header: expected "
            "']', saw '\\n'"},
        // toml++ 3.3 asserted (abort) on these; now an error like any other.
        Bad{"TomlHeaderStartsWithHash", Toml("[#]\n"),
            "pyproject.toml:1:2: Error while parsing key: expected bare key "
            "starting character or string delimiter, saw '#'"},
        Bad{"TomlArrayHeaderStartsWithDot", Toml("[[ .a]]\n"),
            "pyproject.toml:1:4: Error while parsing key: expected bare key "
            "starting character or string delimiter, saw '.'"},
        // Reached __builtin_unreachable() in toml++ 3.3's Unicode tables.
        Bad{"TomlCyrillicInHeader", Toml("[build\xd1\x8c]\n"),
            "pyproject.toml:1:7: Error while parsing table header: expected "
            "']', saw '\xd1\x8c'"},
        Bad{"TomlNoName", Toml("[project]\nversion = '1'\n"),
            "pyproject.toml:1: [project] has no name (PEP 621 requires a "
            "static name)"},
        Bad{"TomlNoVersion", Toml("[project]\nname = 'x'\n"),
            "pyproject.toml:1: [project] has neither a version nor \"version\" "
            "in dynamic"},
        Bad{"TomlBadDeps",
            Toml("[project]\nname = 'x'\nversion = '1'\ndependencies = "
                 "'click'\n"),
            "pyproject.toml:4: [project] dependencies must be an array"},
        Bad{"TomlBadReq",
            Toml("[project]\nname = 'x'\nversion = '1'\ndependencies = [\n  "
                 "'>=1',\n]\n"),
            "pyproject.toml:5: '>=1' does not start with a project name"},
        Bad{"TomlScriptsNotTable",
            Toml("[project]\nname = 'x'\nversion = '1'\nscripts = ['a']\n"),
            "pyproject.toml:4: [project] scripts must be a table"}),
    [](const auto& info) { return info.param.label; });

TEST(ProjectTest, MissingDirectory) {
  auto p = LoadProject("/nonexistent/pbrx/project");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(p.status().message()),
            "/nonexistent/pbrx/project: no such directory");
}

}  // namespace
}  // namespace pbrx::common::project

namespace pbrx::common::project {
namespace {

TEST(ProjectPbrxSettingsTest, ToolPbrxTableIsRead) {
  ProjectFiles f;
  f.pyproject_toml =
      "[project]\nname = \"app\"\nversion = \"1\"\n\n[tool.pbrx]\n"
      "prefix = \"reg.example/team\"\ntags = [\"v1\", \"stable\"]\n"
      "extra-packages = [\"libpq5\", \"ca-certificates\"]\n";
  absl::StatusOr<Project> p = ProjectFromFiles("proj", f);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->pbrx.prefix, "reg.example/team");
  EXPECT_EQ(p->pbrx.tags, (std::vector<std::string>{"v1", "stable"}));
  EXPECT_EQ(p->pbrx.extra_packages,
            (std::vector<std::string>{"libpq5", "ca-certificates"}));
  EXPECT_EQ(p->pbrx.line, 5);
  // A setup.cfg project may keep its pbrx settings in pyproject.toml.
  f.setup_cfg = "[metadata]\nname = cfgapp\nversion = 2\n";
  f.pyproject_toml = "[tool.pbrx]\nprefix = \"r/x\"\n";
  p = ProjectFromFiles("proj", f);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "cfgapp");
  EXPECT_EQ(p->pbrx.prefix, "r/x");
  EXPECT_FALSE(p->pbrx.tags.has_value());
}

TEST(ProjectPbrxSettingsTest, BadSettingsNameTheLineAndKey) {
  auto error = [](const std::string& pbrx) {
    ProjectFiles f;
    f.pyproject_toml =
        "[project]\nname = \"app\"\nversion = \"1\"\n[tool.pbrx]\n" + pbrx;
    return std::string(ProjectFromFiles("proj", f).status().message());
  };
  EXPECT_EQ(error("prefx = \"a\"\n"),
            "pyproject.toml:5: [tool.pbrx] unknown key 'prefx' (prefix, tags, "
            "extra-packages)");
  EXPECT_EQ(error("prefix = 3\n"),
            "pyproject.toml:5: [tool.pbrx] prefix: expected a string");
  EXPECT_EQ(error("tags = \"v1\"\n"),
            "pyproject.toml:5: [tool.pbrx] tags: expected a list of strings");
  EXPECT_EQ(error("extra-packages = [\"libpq5; rm -rf /\"]\n"),
            "pyproject.toml:5: [tool.pbrx] extra-packages: 'libpq5; rm -rf /' "
            "is not a package name ([A-Za-z0-9][A-Za-z0-9+._-]*, at most 100)");
  ProjectFiles f;
  f.pyproject_toml =
      "[project]\nname = \"app\"\nversion = \"1\"\n[tool]\n"
      "pbrx = \"x\"\n";
  EXPECT_EQ(ProjectFromFiles("proj", f).status().message(),
            "pyproject.toml:5: [tool.pbrx] must be a table");
}

}  // namespace
}  // namespace pbrx::common::project
