#include "common/daemon_flags.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/logging.h"
#include "common/version.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::common {
namespace {

struct Outcome {
  std::optional<int> exit_code;
  std::string out;
  std::string err;
};

Outcome Parse(std::vector<std::string> args,
              const std::function<absl::Status()>& check, std::string* value) {
  FlagParser flags("pbrx-test");
  flags.AddString("value", value, "a value");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  Outcome r;
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  r.exit_code = ParseDaemonFlags(
      "pbrx-test", flags, static_cast<int>(argv.size()), argv.data(), check);
  r.out = testing::internal::GetCapturedStdout();
  r.err = testing::internal::GetCapturedStderr();
  return r;
}

TEST(DaemonFlagsTest, HelpAndVersionExitZeroOnStdout) {
  std::string value;
  Outcome help = Parse({"pbrx-test", "--help"}, nullptr, &value);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--value"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--quiet"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--version"), std::string::npos) << help.out;
  EXPECT_EQ(help.err, "");
  Outcome version = Parse({"pbrx-test", "--version"}, nullptr, &value);
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, std::string("pbrx-test ") + kVersion + "\n");
}

TEST(DaemonFlagsTest, FlagAndCheckErrorsExitTwoOnStderr) {
  std::string value;
  Outcome unknown = Parse({"pbrx-test", "--nope"}, nullptr, &value);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.out, "");
  EXPECT_NE(unknown.err.find("pbrx-test: "), std::string::npos);
  EXPECT_NE(unknown.err.find("--nope"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("(see --help)\n"), std::string::npos);

  bool checked = false;
  Outcome bad = Parse(
      {"pbrx-test", "--value=x"},
      [&] {
        checked = true;
        return value == "x" ? absl::InvalidArgumentError("--value x: no")
                            : absl::OkStatus();
      },
      &value);
  EXPECT_TRUE(checked);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "pbrx-test: --value x: no (see --help)\n");
}

TEST(DaemonFlagsTest, GoodFlagsGoOn) {
  std::string value;
  Outcome ok = Parse(
      {"pbrx-test", "--value", "y", "--quiet"}, [] { return absl::OkStatus(); },
      &value);
  EXPECT_EQ(ok.exit_code, std::nullopt);
  EXPECT_EQ(value, "y");
  EXPECT_EQ(ok.out, "");
  EXPECT_EQ(ok.err, "");
}

TEST(DaemonFlagsTest, ConfigFileFlagsAndLogLevels) {
  std::string dir = testing_util::NewTempDir("cfg");
  FILE* f = std::fopen((dir + "/d.toml").c_str(), "w");
  std::fputs("value = \"from-file\"\nlog_level = \"warning\"\n", f);
  std::fclose(f);
  std::string value;
  Outcome ok =
      Parse({"pbrx-test", "--config", dir + "/d.toml"}, nullptr, &value);
  EXPECT_EQ(ok.exit_code, std::nullopt) << ok.err;
  EXPECT_EQ(value, "from-file");
  EXPECT_FALSE(LogEnabled(LogSeverity::kInfo));
  ok = Parse({"pbrx-test", "--config=" + dir + "/d.toml", "-v", "--value=flag"},
             nullptr, &value);
  EXPECT_EQ(ok.exit_code, std::nullopt) << ok.err;
  EXPECT_EQ(value, "flag");
  EXPECT_TRUE(LogEnabled(LogSeverity::kDebug));
  // A level on the command line beats -v, in either order.
  ok = Parse({"pbrx-test", "--log-level=error", "--verbose"}, nullptr, &value);
  EXPECT_EQ(ok.exit_code, std::nullopt) << ok.err;
  EXPECT_FALSE(LogEnabled(LogSeverity::kWarning));
  Outcome bad = Parse({"pbrx-test", "--log-level=loud"}, nullptr, &value);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err,
            "pbrx-test: --log-level: 'loud' is not one of debug, info, "
            "warning, error (see --help)\n");
  bad = Parse({"pbrx-test", "--config", dir + "/none.toml"}, nullptr, &value);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "pbrx-test: --config " + dir +
                         "/none.toml: cannot be read (see --help)\n");
  SetInfoLogging(true);
}

class ConfigFileTest : public ::testing::Test {
 protected:
  ConfigFileTest() : flags_("pbrx-test") {
    flags_.AddString("listen", &listen_, "address");
    flags_.AddByteSize("max-size", &max_size_, "bytes");
    flags_.AddBool("fsync", &fsync_, "sync");
    flags_.AddStringList("platform", &platforms_, "repeat");
  }
  std::string Write(const std::string& text) {
    std::string path = testing_util::NewTempDir("config") + "/d.toml";
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    return path;
  }
  absl::Status Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "pbrx-test");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    bool help = false;
    return flags_.Parse(static_cast<int>(argv.size()), argv.data(), &help);
  }

  FlagParser flags_;
  std::string listen_ = "127.0.0.1:0";
  int64_t max_size_ = 0;
  bool fsync_ = false;
  std::vector<std::string> platforms_ = {"default=1"};
};

TEST_F(ConfigFileTest, SetsFlagsAndTheCommandLineWins) {
  std::string file = Write(
      "listen = \"0.0.0.0:8980\"\nmax_size = \"10G\"\nfsync = true\n"
      "platform = [\"arch=arm64\", \"gpu=yes\"]\n");
  ASSERT_TRUE(ApplyConfigFile(flags_, file).ok());
  EXPECT_EQ(listen_, "0.0.0.0:8980");
  EXPECT_EQ(max_size_, int64_t{10} << 30);
  EXPECT_TRUE(fsync_);
  EXPECT_EQ(platforms_, (std::vector<std::string>{"arch=arm64", "gpu=yes"}));
  ASSERT_TRUE(
      Parse({"--listen=127.0.0.1:9", "--fsync=false", "--platform=os=linux"})
          .ok());
  EXPECT_EQ(listen_, "127.0.0.1:9");
  EXPECT_FALSE(fsync_);
  // A list given on the command line replaces the file's.
  EXPECT_EQ(platforms_, (std::vector<std::string>{"os=linux"}));
  EXPECT_EQ(max_size_, int64_t{10} << 30);  // not on the command line
}

TEST_F(ConfigFileTest, ErrorsNameTheFileLineAndKey) {
  std::string file = Write("listen = \"x:1\"\n\nlisten_addr = \"y\"\n");
  EXPECT_EQ(ApplyConfigFile(flags_, file).message(),
            file + ":3: unknown key 'listen-addr' (no flag --listen-addr)");
  file = Write("max-size = \"lots\"\n");
  absl::Status s = ApplyConfigFile(flags_, file);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(s.message(), file + ":1: max-size: ")) << s;
  file = Write("[server]\nlisten = \"x\"\n");
  EXPECT_EQ(ApplyConfigFile(flags_, file).message(),
            file +
                ":1: server: expected a string, integer, boolean or list "
                "(flags are top-level keys, not tables)");
  file = Write("listen = [\"a\", \"b\"]\n");
  EXPECT_EQ(ApplyConfigFile(flags_, file).message(),
            file + ":1: listen: expected one value, not a list");
  file = Write("listen = \n");
  s = ApplyConfigFile(flags_, file);
  EXPECT_TRUE(absl::StartsWith(s.message(), file + ":1:")) << s;
  EXPECT_EQ(ApplyConfigFile(flags_, "/nonexistent.toml").message(),
            "--config /nonexistent.toml: cannot be read");
}

}  // namespace
}  // namespace pbrx::common
