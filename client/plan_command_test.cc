#include "client/plan_command.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::client {
namespace {

using ::testing::HasSubstr;

std::string Fixture(const std::string& name) {
  return testing_util::DereferencedCopy(
      std::string(std::getenv("TEST_SRCDIR")) +
      "/pbrx/tests/fixtures/projects/" + name);
}

class PlanCommandTest : public ::testing::Test {
 protected:
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    io_.out = &out_;
    io_.err = &err_;
    return RunPlanCommand(args, io_);
  }
  std::ostringstream out_, err_;
  PlanCommandIo io_;
};

TEST_F(PlanCommandTest, JsonForPep621WithPrefixAndTag) {
  ASSERT_EQ(Run({"--json", "--prefix", "registry.example.org:5000/team",
                 "--tag", "v1", Fixture("pep621-tools")}),
            0)
      << err_.str();
  std::string dir = Fixture("pep621-tools");
  const std::string expected = R"json({
  "schema": "pbrx.plan/v2",
  "platform": [
    "platform:debian",
    "platform:debian-12",
    "platform:debian-bookworm",
    "platform:dpkg"
  ],
  "prefix": "registry.example.org:5000/team",
  "projects": [
    {
      "dir": ")json" + dir + R"json(",
      "name": "Acme.Tools",
      "version": "1.4.0",
      "metadata": {
        "source": "pyproject.toml",
        "backend": "hatchling.build",
        "dynamic": []
      },
      "requirements": [
        "click>=8.1",
        "attrs>=22.2"
      ],
      "extras": {
        "acme-report": [
          "jinja2>=3.1",
          "markupsafe>=2.1"
        ],
        "acme-tools-base": [
          "rich>=13"
        ],
        "dev": [
          "pytest>=7"
        ]
      },
      "images_known": true,
      "images": [
        {
          "kind": "base",
          "name": "registry.example.org:5000/team/acme.tools-base",
          "refs": [
            "registry.example.org:5000/team/acme.tools-base:v1"
          ],
          "script": null,
          "entry_point": null,
          "cmd": [],
          "wanted_extra": "Acme.Tools_base",
          "extras": [
            "acme-tools-base"
          ],
          "extra_requirements": [
            "rich>=13"
          ]
        },
        {
          "kind": "script",
          "name": "registry.example.org:5000/team/acme-sync",
          "refs": [
            "registry.example.org:5000/team/acme-sync:v1"
          ],
          "script": "acme-sync",
          "entry_point": "acme_tools.sync:main",
          "cmd": [
            "/usr/local/bin/acme-sync"
          ],
          "wanted_extra": "acme_sync",
          "extras": [],
          "extra_requirements": []
        },
        {
          "kind": "script",
          "name": "registry.example.org:5000/team/acme-report",
          "refs": [
            "registry.example.org:5000/team/acme-report:v1"
          ],
          "script": "acme-report",
          "entry_point": "acme_tools.report:main",
          "cmd": [
            "/usr/local/bin/acme-report"
          ],
          "wanted_extra": "acme_report",
          "extras": [
            "acme-report"
          ],
          "extra_requirements": [
            "jinja2>=3.1",
            "markupsafe>=2.1"
          ]
        }
      ],
      "bindep_file": "bindep.txt",
      "distro_packages": {
        "compile": [
          "git"
        ],
        "runtime": [
          "git"
        ]
      },
      "steps": [
        {
          "kind": "base-probe",
          "name": "base",
          "detail": "os-release, Python, install scheme and wheel tags of the base"
        },
        {
          "kind": "distro-layer",
          "name": "builder",
          "detail": "build tools + git"
        },
        {
          "kind": "project-wheel",
          "name": "Acme.Tools",
          "detail": "PEP 517 build with hatchling.build"
        },
        {
          "kind": "resolve",
          "name": "requirements",
          "detail": "2 requirement(s) + extras acme-tools-base, acme-report"
        },
        {
          "kind": "fetch",
          "name": "dists",
          "detail": "one per resolved distribution (known after resolve)"
        },
        {
          "kind": "wheel-build",
          "name": "sdists",
          "detail": "one per sdist without a matching wheel (known after resolve)"
        },
        {
          "kind": "distro-layer",
          "name": "runtime",
          "detail": "git"
        },
        {
          "kind": "packages-probe",
          "name": "image",
          "detail": "the distro packages of the images' rootfs, for their SBOMs"
        },
        {
          "kind": "python-layer",
          "name": "base",
          "detail": "the project and its requirements (+ base extra)"
        },
        {
          "kind": "python-layer",
          "name": "acme-report",
          "detail": "extra acme-report"
        },
        {
          "kind": "image-assembly",
          "name": "registry.example.org:5000/team/acme.tools-base",
          "detail": "registry.example.org:5000/team/acme.tools-base:v1"
        },
        {
          "kind": "image-assembly",
          "name": "registry.example.org:5000/team/acme-sync",
          "detail": "registry.example.org:5000/team/acme-sync:v1"
        },
        {
          "kind": "image-assembly",
          "name": "registry.example.org:5000/team/acme-report",
          "detail": "registry.example.org:5000/team/acme-report:v1"
        }
      ],
      "warnings": [
        "Acme.Tools 1.4.0 does not provide the extra 'acme_sync' (image registry.example.org:5000/team/acme-sync)"
      ]
    }
  ],
  "errors": []
}
)json";
  EXPECT_EQ(out_.str(), expected);
}

TEST_F(PlanCommandTest, PbrServiceCompileAndRuntimeSplitPerPlatform) {
  ASSERT_EQ(Run({Fixture("pbr-service")}), 0) << err_.str();
  EXPECT_THAT(
      out_.str(),
      HasSubstr("    compile: gcc libffi-dev libffi8 libyaml-0-2 libyaml-dev "
                "python3-dev\n    runtime: libffi8 libyaml-0-2\n"));
  EXPECT_THAT(
      out_.str(),
      HasSubstr("example-api:latest  CMD /usr/local/bin/example-api  extras: "
                "example_api\n"));
  // Debian 11 takes libffi7; an RPM platform the -devel names.
  std::string dir = testing_util::NewTempDir("osr");
  std::ofstream(dir + "/bullseye")
      << "ID=debian\nVERSION_ID=\"11\"\nVERSION_CODENAME=bullseye\n";
  ASSERT_EQ(Run({"--os-release", dir + "/bullseye", Fixture("pbr-service")}),
            0);
  EXPECT_THAT(out_.str(), HasSubstr("    runtime: libffi7 libyaml-0-2\n"));
  ASSERT_EQ(Run({"--platform", "platform:rpm", "--platform", "platform:centos",
                 Fixture("pbr-service")}),
            0);
  EXPECT_THAT(
      out_.str(),
      HasSubstr("    compile: gcc libffi-devel libffi\n    runtime: libffi\n"));
}

TEST_F(PlanCommandTest, ErrorsAndExitCodes) {
  EXPECT_EQ(Run({}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("pbrx plan: no project directory given"));
  EXPECT_EQ(Run({"--prefix", "Bad Prefix", Fixture("pep621-tools")}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("is not a valid image path component"));
  EXPECT_EQ(Run({"--tag", "-bad", Fixture("pep621-tools")}), 2);
  EXPECT_EQ(Run({"--bogus", Fixture("pep621-tools")}), 2);

  // A missing directory fails; the other project is still planned.
  EXPECT_EQ(Run({"/nonexistent/proj", Fixture("pep621-tools")}), 1);
  EXPECT_EQ(err_.str(), "pbrx plan: /nonexistent/proj: no such directory\n");
  EXPECT_THAT(out_.str(), HasSubstr("Acme.Tools 1.4.0"));

  // The same project twice: every image clashes.
  EXPECT_EQ(Run({Fixture("pep621-tools"), Fixture("pep621-tools")}), 1);
  EXPECT_THAT(
      err_.str(),
      HasSubstr("image 'acme-sync' of project " + Fixture("pep621-tools") +
                " clashes with project " + Fixture("pep621-tools") +
                " (duplicate script name 'acme-sync')"));

  // A malformed bindep.txt names file, line and column.
  std::string dir = testing_util::NewTempDir("proj");
  std::ofstream(dir + "/setup.cfg") << "[metadata]\nname = broken\n";
  std::ofstream(dir + "/bindep.txt") << "gcc [compile\n";
  EXPECT_EQ(Run({dir}), 1);
  EXPECT_THAT(err_.str(), HasSubstr(dir + "/bindep.txt:1:13: expected"));
  // A project without a name.
  std::ofstream(dir + "/setup.cfg") << "[metadata]\nsummary = nameless\n";
  EXPECT_EQ(Run({dir}), 1);
  EXPECT_EQ(
      err_.str(),
      "pbrx plan: " + dir +
          "/setup.cfg:1: [metadata] has no name: the project has no name\n");
}

}  // namespace
}  // namespace pbrx::client
