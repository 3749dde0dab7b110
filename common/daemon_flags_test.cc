#include "common/daemon_flags.h"

#include <string>
#include <vector>

#include "common/version.h"
#include "gtest/gtest.h"

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

}  // namespace
}  // namespace pbrx::common
