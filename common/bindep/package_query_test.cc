#include "common/bindep/package_query.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::common::bindep {
namespace {

// Answers recorded from the real tools, keyed by the last argv element.
class FakeRunner : public CommandRunner {
 public:
  std::map<std::string, CommandResult> answers;
  std::vector<std::vector<std::string>> calls;
  absl::StatusOr<CommandResult> Run(
      const std::vector<std::string>& argv) override {
    calls.push_back(argv);
    auto it = answers.find(argv.back());
    if (it == answers.end()) return absl::UnavailableError("no such tool");
    return it->second;
  }
};

std::string Show(const absl::StatusOr<std::optional<std::string>>& v) {
  if (!v.ok()) return "error: " + std::string(v.status().message());
  return v->has_value() ? **v : "<none>";
}

TEST(PackageQueryTest, Dpkg) {
  FakeRunner r;
  r.answers["inst"] = {0, "inst install ok installed 4.0.0-0ubuntu1\n"};
  r.answers["conf"] = {0, "conf deinstall ok config-files 4.0.0-0ubuntu1\n"};
  r.answers["nope"] = {1, "dpkg-query: no packages found matching nope\n"};
  r.answers["weird"] = {2, "dpkg-query: error: something else\n"};
  auto q = MakePackageQuery(PackageManager::kDpkg, &r);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(Show((*q)->InstalledVersion("inst")), "4.0.0-0ubuntu1");
  EXPECT_EQ(Show((*q)->InstalledVersion("conf")), "<none>");
  EXPECT_EQ(Show((*q)->InstalledVersion("nope")), "<none>");
  EXPECT_EQ(Show((*q)->InstalledVersion("weird")),
            "error: dpkg-query gave an unexpected answer for weird (exit 2): "
            "dpkg-query: error: "
            "something else");
  EXPECT_THAT(r.calls[0], ::testing::ElementsAre(
                              "dpkg-query", "-W", "-f",
                              "${Package} ${Status} ${Version}\n", "inst"));
}

TEST(PackageQueryTest, Rpm) {
  FakeRunner r;
  r.answers["foo"] = {0, "foo 4.0.0-0.el6\n"};
  r.answers["epoch"] = {0, "epoch 1:2.3-4.fc39\n"};
  r.answers["nope"] = {1, "package nope is not installed\n"};
  r.answers["virt"] = {1, "no package provides virt\n"};
  auto q = MakePackageQuery(PackageManager::kRpm, &r);
  EXPECT_EQ(Show((*q)->InstalledVersion("foo")), "4.0.0-0.el6");
  EXPECT_EQ(Show((*q)->InstalledVersion("epoch")), "1:2.3-4.fc39");
  EXPECT_EQ(Show((*q)->InstalledVersion("nope")), "<none>");
  EXPECT_EQ(Show((*q)->InstalledVersion("virt")), "<none>");
}

TEST(PackageQueryTest, ApkPacmanEmergeBrew) {
  FakeRunner r;
  r.answers["musl"] = {0, "musl-1.2.4_git20230717-r4\n"};
  r.answers["absent"] = {1, ""};
  auto apk = MakePackageQuery(PackageManager::kApk, &r);
  EXPECT_EQ(Show((*apk)->InstalledVersion("musl")), "1.2.4_git20230717-r4");
  EXPECT_EQ(Show((*apk)->InstalledVersion("absent")), "<none>");

  FakeRunner p;
  p.answers["bash"] = {0, "bash 5.2.026-2\n"};
  p.answers["gone"] = {1, "error: package 'gone' was not found\n"};
  auto pacman = MakePackageQuery(PackageManager::kPacman, &p);
  EXPECT_EQ(Show((*pacman)->InstalledVersion("bash")), "5.2.026-2");
  EXPECT_EQ(Show((*pacman)->InstalledVersion("gone")), "<none>");

  FakeRunner e;
  e.answers["dev-lang/python"] = {0, "'3.11.8_p1'\n"};
  e.answers["x11/none"] = {3, ""};
  auto emerge = MakePackageQuery(PackageManager::kEmerge, &e);
  EXPECT_EQ(Show((*emerge)->InstalledVersion("dev-lang/python")), "3.11.8_p1");
  EXPECT_EQ(Show((*emerge)->InstalledVersion("x11/none")), "<none>");

  FakeRunner b;
  b.answers["git"] = {0, "git 2.44.0\n"};
  b.answers["none"] = {1, ""};
  auto brew = MakePackageQuery(PackageManager::kBrew, &b);
  EXPECT_EQ(Show((*brew)->InstalledVersion("git")), "2.44.0");
  EXPECT_EQ(Show((*brew)->InstalledVersion("none")), "<none>");

  EXPECT_EQ(MakePackageQuery(PackageManager::kUnknown, &b).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(PackageQueryTest, RealDpkgOnThisDebianHost) {
  SubprocessRunner runner;
  auto q = MakePackageQuery(PackageManager::kDpkg, &runner);
  auto bash = (*q)->InstalledVersion("bash");
  ASSERT_TRUE(bash.ok()) << bash.status();
  ASSERT_TRUE(bash->has_value());
  EXPECT_FALSE((*bash)->empty());
  auto none = (*q)->InstalledVersion("pbrx-no-such-package-xyz");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace pbrx::common::bindep
