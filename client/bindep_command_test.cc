#include "client/bindep_command.h"

#include <fstream>
#include <map>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::client {
namespace {

namespace bd = common::bindep;

// dpkg-query answers: installed packages and their versions.
class FakeDpkg : public bd::CommandRunner {
 public:
  std::map<std::string, std::string> installed;
  int calls = 0;
  absl::StatusOr<bd::CommandResult> Run(
      const std::vector<std::string>& argv) override {
    ++calls;
    const std::string& pkg = argv.back();
    auto it = installed.find(pkg);
    if (it == installed.end()) {
      return bd::CommandResult{
          1, "dpkg-query: no packages found matching " + pkg + "\n"};
    }
    return bd::CommandResult{
        0, pkg + " install ok installed " + it->second + "\n"};
  }
};

constexpr char kDebian[] =
    "NAME=\"Debian "
    "GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";
constexpr char kCentos[] =
    "NAME=\"CentOS Linux\"\nVERSION=\"7 (Core)\"\nID=centos\nVERSION_ID=7\n";

constexpr char kRules[] =
    "# compile-time only\n"
    "gcc [compile]\n"
    "libffi-dev [compile platform:dpkg]\n"
    "libffi-devel [compile platform:rpm]\n"
    "libffi8 [platform:dpkg]\n"
    "libffi [platform:rpm]\n"
    "python3 >=3.9\n"
    "zlib1g [platform:dpkg] >=1:1.2.13\n"
    "libssl3 [platform:dpkg !compile]\n"
    "gcc [test]\n";

class BindepCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::NewTempDir("bindep");
    Write("os-release", kDebian);
    Write("centos-release", kCentos);
    io_.out = &out_;
    io_.err = &err_;
    io_.in = &in_;
    io_.runner = &dpkg_;
    io_.cwd = dir_;
    io_.host_os_release = dir_ + "/os-release";
  }
  void Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ + "/" + name) << content;
  }
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    return RunBindepCommand(args, io_);
  }

  std::string dir_;
  FakeDpkg dpkg_;
  std::ostringstream out_, err_;
  std::istringstream in_;
  BindepCommandIo io_;
};

TEST_F(BindepCommandTest, FileDiscoveryMessages) {
  EXPECT_EQ(Run({}), 1);
  EXPECT_EQ(out_.str(),
            "Neither file bindep.txt nor file other-requirements.txt exist.\n");
  Write("other-requirements.txt", "foo\n");
  EXPECT_EQ(Run({"-l", "newline"}), 0);
  EXPECT_EQ(out_.str(), "foo\n");
  Write("bindep.txt", "bar\n");
  EXPECT_EQ(Run({}), 1);
  EXPECT_EQ(
      out_.str(),
      "Both bindep.txt and other-requirements.txt files exist, choose one.\n");
  EXPECT_EQ(Run({"-f", "missing.txt"}), 1);
  EXPECT_EQ(out_.str(), "Error reading file missing.txt.\n");
}

TEST_F(BindepCommandTest, MissingAndBadVersions) {
  Write("bindep.txt", kRules);
  dpkg_.installed = {{"python3", "3.11.2-1+b1"}, {"zlib1g", "1:1.2.11.dfsg-2"}};
  EXPECT_EQ(Run({}), 1);
  EXPECT_EQ(out_.str(),
            "Missing packages:\n    libffi8 libssl3\n"
            "Bad versions of installed packages:\n"
            "    zlib1g version 1:1.2.11.dfsg-2 does not match >=1:1.2.13\n");
  EXPECT_EQ(Run({"-b"}), 1);
  EXPECT_EQ(out_.str(), "libffi8\nlibssl3\n");
  dpkg_.installed = {{"python3", "3.11.2-1+b1"},
                     {"zlib1g", "1:1.2.13.dfsg-1"},
                     {"libffi8", "3.4.4-1"},
                     {"libssl3", "3.0.11-1"}};
  EXPECT_EQ(Run({}), 0);
  EXPECT_EQ(out_.str(), "");
}

TEST_F(BindepCommandTest, CompileProfileAndDuplicates) {
  Write("bindep.txt", kRules);
  EXPECT_EQ(Run({"compile"}), 1);
  // gcc once (missing is a set), libssl3 excluded by !compile, python3 and
  // zlib1g unmarked so always there.
  EXPECT_EQ(out_.str(),
            "Missing packages:\n    gcc libffi-dev libffi8 python3 zlib1g\n");
  EXPECT_EQ(Run({"compile", "test", "-b"}), 1);
  EXPECT_EQ(out_.str(), "gcc\nlibffi-dev\nlibffi8\npython3\nzlib1g\n");
  // Listing keeps file order and duplicates, as bindep's -l does.
  EXPECT_EQ(Run({"-l", "csv", "compile", "test"}), 0);
  EXPECT_EQ(out_.str(), "gcc,libffi-dev,libffi8,python3,zlib1g,gcc\n");
}

TEST_F(BindepCommandTest, ListForAnotherPlatform) {
  Write("bindep.txt", kRules);
  EXPECT_EQ(Run({"-l", "newline", "--os-release", "centos-release"}), 0);
  EXPECT_EQ(out_.str(), "libffi\npython3\n");
  EXPECT_EQ(Run({"-l", "csv", "--platform", "platform:rpm", "compile"}), 0);
  EXPECT_EQ(out_.str(), "gcc,libffi-devel,libffi,python3\n");
  EXPECT_EQ(Run({"--list_all=newline", "--platform=dpkg"}), 0);
  EXPECT_EQ(out_.str(), "libffi8\npython3\nzlib1g\nlibssl3\n");
  EXPECT_EQ(dpkg_.calls, 0);
}

TEST_F(BindepCommandTest, Profiles) {
  Write("bindep.txt", kRules);
  EXPECT_EQ(Run({"--profiles"}), 0);
  EXPECT_EQ(out_.str(),
            "Platform profiles:\nplatform:debian\nplatform:debian-12\n"
            "platform:debian-bookworm\nplatform:dpkg\n\n"
            "Configuration profiles:\ncompile\ntest\n");
}

TEST_F(BindepCommandTest, StdinAndParseErrors) {
  in_.str("foo [Bad]\n");
  EXPECT_EQ(Run({"-f", "-", "-l", "newline"}), 1);
  EXPECT_EQ(err_.str(),
            "pbrx bindep: <stdin>:1:6: expected ' ', '(', ']' or a profile "
            "name (a-z 0-9 : - "
            ".), found 'B'\n");
  Write("bindep.txt", "ok\nfoo\tbar\n");
  EXPECT_EQ(Run({}), 1);
  EXPECT_EQ(err_.str(),
            "pbrx bindep: bindep.txt:2:4: expected ' ', '#' or end of line, "
            "found a tab (only "
            "spaces separate fields)\n");
}

TEST_F(BindepCommandTest, UsageErrors) {
  EXPECT_EQ(Run({"--bogus"}), 2);
  EXPECT_EQ(err_.str(),
            "Usage: pbrx bindep [options] [profile]\n\npbrx bindep: error: no "
            "such option: "
            "--bogus\n");
  EXPECT_EQ(Run({"-l", "json"}), 2);
  EXPECT_THAT(
      err_.str(),
      ::testing::HasSubstr(
          "error: option -l: invalid choice: 'json' (choose from 'newline', "
          "'csv')"));
  EXPECT_EQ(Run({"-f"}), 2);
  EXPECT_THAT(err_.str(),
              ::testing::HasSubstr("error: -f option requires 1 argument"));
  EXPECT_EQ(Run({"--os-release", "x", "--platform", "rpm"}), 2);
  EXPECT_EQ(Run({"--help"}), 0);
  EXPECT_THAT(out_.str(), ::testing::HasSubstr("--list_all=LIST_ALL"));
}

TEST_F(BindepCommandTest, UnknownDistroCannotCheckButCanList) {
  Write("bindep.txt", "foo\n");
  Write("os-release", "ID=plan9\n");
  EXPECT_EQ(Run({}), 1);
  EXPECT_THAT(err_.str(), ::testing::HasSubstr("no package manager is known"));
  EXPECT_EQ(Run({"-l", "newline"}), 0);
  EXPECT_EQ(out_.str(), "foo\n");
  Write("os-release", "NAME=nothing\n");
  EXPECT_EQ(Run({"-l", "newline"}), 1);
  EXPECT_EQ(out_.str(),
            "Unable to determine distro ID. Does /etc/os-release exist or is "
            "lsb_release "
            "installed?\n");
}

}  // namespace
}  // namespace pbrx::client
