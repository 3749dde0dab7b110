// The debian-base step's arguments: a spec that could smuggle text into
// the mmdebstrap command is refused where the step is made, where the tool
// reads its argv, and before the tool runs anything (the real mmdebstrap
// build is exercised by //tests:base_image_test).
#include "common/base/debian_base.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/step_tool.h"
#include "gtest/gtest.h"

namespace pbrx::common::base {
namespace {

std::string TempDir() {
  std::string t =
      std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") +
      "/base-XXXXXX";
  return mkdtemp(t.data());
}

TEST(DebianBaseTest, HostileSpecsAreRefusedAndNothingRuns) {
  std::string dir = TempDir();
  std::string canary = dir + "/pwned";
  struct Case {
    DebianBaseSpec spec;
    std::string message;
  };
  DebianBaseSpec suite, variant, package, many, mtime, mirror, secret, scheme,
      release;
  suite.suite = "bookworm;touch " + canary + ";#";
  variant.variant = "minbase --customize-hook='touch " + canary + "'";
  package.include = {"python3", "x,$(touch " + canary + ")"};
  many.include.assign(257, "python3");
  mtime.mtime = -1;
  mirror.mirror =
      "http://deb.debian.org/debian --customize-hook=touch " + canary;
  secret.mirror = "https://ci:s3cret@mirror.example/debian";
  scheme.mirror = "file:///srv/mirror";
  release.release = "sha256:" + std::string(64, 'a');
  for (const Case& c : std::vector<Case>{
           {suite, "Debian suite 'bookworm;touch " + canary +
                       ";#' is not a suite name ([a-z][a-z0-9.+-], at most "
                       "64)"},
           {variant, "'minbase --customize-hook='touch " + canary +
                         "'' is not an mmdebstrap variant"},
           {package,
            "'x,$(touch " + canary + ")' is not a Debian package name"},
           {many, "257 packages to include: at most 256"},
           {mtime, "mtime -1 is before the epoch"},
           {mirror,
            "mirror 'http://deb.debian.org/debian --customize-hook=touch " +
                canary +
                "' is not an http(s)://HOST[:PORT]/PATH URL of "
                "[A-Za-z0-9._~:/%+-]"},
           {secret,
            "mirror URL holds user:password@ (it would be part of a cache "
            "key)"},
           {scheme,
            "mirror 'file:///srv/mirror' is not an http(s)://HOST[:PORT]/PATH "
            "URL of [A-Za-z0-9._~:/%+-]"},
           {release,
            "the Debian release digest is not 64 lowercase hex digits"}}) {
    auto argv = DebianBaseArgv(c.spec);
    EXPECT_EQ(argv.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(argv.status().message(), c.message);
    auto layer = BuildDebianBase(c.spec, dir);
    EXPECT_EQ(layer.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(layer.status().message(), c.message);
  }
  EXPECT_NE(access(canary.c_str(), F_OK), 0);
  struct stat st;
  EXPECT_NE(lstat((dir + "/rootfs").c_str(), &st), 0);  // nothing ran
  EXPECT_NE(lstat((dir + "/.tmp").c_str(), &st), 0);
}

TEST(DebianBaseTest, TheStepArgvIsTheToolsAndRoundTrips) {
  DebianBaseSpec spec;
  spec.suite = "trixie";
  spec.include = {"python3", "python3-venv", "git"};
  spec.mtime = 1700000000;
  auto argv = DebianBaseArgv(spec);
  ASSERT_TRUE(argv.ok()) << argv.status();
  EXPECT_EQ(*argv,
            (std::vector<std::string>{
                kStepToolPath, kStepToolMarker, "debian-base", "--suite=trixie",
                "--variant=minbase", "--include=python3,python3-venv,git",
                "--mtime=1700000000"}));
  auto parsed = ParseDebianBaseArgs(
      std::vector<std::string>(argv->begin() + 3, argv->end()));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->suite, "trixie");
  EXPECT_EQ(parsed->variant, "minbase");
  EXPECT_EQ(parsed->include, spec.include);
  EXPECT_EQ(parsed->mtime, 1700000000);
  EXPECT_EQ(MmdebstrapArgv(*parsed, "/work/rootfs"),
            (std::vector<std::string>{
                "mmdebstrap", "--mode=root", "--skip=chroot/mount",
                "--keyring=/usr/share/keyrings/debian-archive-keyring.gpg",
                "--variant=minbase", "--include=python3,python3-venv,git",
                "trixie", "/work/rootfs"}));
  // A mirror and the archive's state: in the key, the mirror given to
  // mmdebstrap.
  spec.mirror = "http://snapshot.debian.org/archive/debian/20240101T000000Z";
  spec.release = std::string(64, 'e');
  argv = DebianBaseArgv(spec);
  ASSERT_TRUE(argv.ok()) << argv.status();
  EXPECT_EQ(argv->at(argv->size() - 2), "--mirror=" + spec.mirror);
  EXPECT_EQ(argv->back(), "--release=" + spec.release);
  parsed = ParseDebianBaseArgs(
      std::vector<std::string>(argv->begin() + 3, argv->end()));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->mirror, spec.mirror);
  EXPECT_EQ(parsed->release, spec.release);
  EXPECT_EQ(MmdebstrapArgv(*parsed, "/work/rootfs").back(), spec.mirror);
  EXPECT_EQ(DebianReleaseSources("trixie", spec.mirror + "/").size(), 1u);
  EXPECT_EQ(DebianReleaseSources("trixie", spec.mirror + "/")[0].url,
            spec.mirror + "/dists/trixie/InRelease");
}

TEST(DebianBaseTest, TheToolRefusesArgumentsItDidNotMake) {
  const std::vector<std::string> ok = {"--suite=bookworm", "--variant=minbase",
                                       "--include=python3", "--mtime=0"};
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"--suite=bookworm", "--variant=minbase", "--include=python3"},
            "--mtime is required"},
           {{"--suite=bookworm", "--variant=minbase", "--mtime=0"},
            "--include is required"},
           {{"--suite=bookworm", "--variant=minbase", "--include=python3",
             "--mtime=0", "--customize-hook=touch /x"},
            "unknown option --customize-hook"},
           {{"--suite=bookworm", "--variant=minbase", "--include=python3",
             "--mtime=soon"},
            "--mtime needs seconds since the epoch: 'soon'"},
           {{"bookworm"}, "expected --KEY=VALUE: 'bookworm'"},
           {{"--suite=../../etc", "--variant=minbase", "--include=python3",
             "--mtime=0"},
            "Debian suite '../../etc' is not a suite name ([a-z][a-z0-9.+-], "
            "at most 64)"},
           {{"--suite=bookworm", "--variant=minbase",
             "--include=python3,--hook-dir=/tmp", "--mtime=0"},
            "'--hook-dir=/tmp' is not a Debian package name"}}) {
    auto spec = ParseDebianBaseArgs(c.args);
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(spec.status().message(), c.message);
  }
  EXPECT_TRUE(ParseDebianBaseArgs(ok).ok());
}

}  // namespace
}  // namespace pbrx::common::base
