#include "common/process.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::common {
namespace {

using ::testing::HasSubstr;

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::NewTempDir("proc");
    options_.env = {{"PATH", "/usr/bin:/bin"}};
    options_.log_path = dir_ + "/log";
  }
  std::string dir_;
  ProcessOptions options_;
};

TEST_F(ProcessTest, ArgumentsAreNeverInterpretedByAShell) {
  // The kind of text an attacker puts in a field: run as one argument, it
  // is printed, not executed.
  std::string canary = dir_ + "/pwned";
  std::string hostile = "bookworm;touch " + canary + ";#$(touch " + canary +
                        ")`touch " + canary + "`";
  auto r = RunProcess({"echo", hostile}, options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok()) << r->Describe();
  EXPECT_EQ(testing_util::ReadFile(options_.log_path), hostile + "\n");
  EXPECT_NE(access(canary.c_str(), F_OK), 0);
}

TEST_F(ProcessTest, StdinComesFromTheGivenFileElseDevNull) {
  auto r = RunProcess({"cat"}, options_);
  ASSERT_TRUE(r.ok() && r->ok());
  EXPECT_EQ(testing_util::ReadFile(options_.log_path), "");
  std::ofstream(dir_ + "/in") << "registry.example:5000";
  options_.stdin_path = dir_ + "/in";
  r = RunProcess({"cat"}, options_);
  ASSERT_TRUE(r.ok() && r->ok());
  EXPECT_EQ(testing_util::ReadFile(options_.log_path), "registry.example:5000");
}

TEST_F(ProcessTest, ExitCodesSignalsAndTheCleanEnvironment) {
  options_.env["ONLY"] = "this";
  auto r = RunProcess({"env"}, options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(testing_util::ReadFile(options_.log_path),
            "ONLY=this\nPATH=/usr/bin:/bin\n");
  r = RunProcess({"false"}, options_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_EQ(r->Describe(), "exit 1");
  r = RunProcess({"sh", "-c", "kill -9 $$"}, options_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signal, 9);
  EXPECT_EQ(r->Describe(), "killed by signal 9");
}

TEST_F(ProcessTest, OnlyStandardDescriptorsAreInherited) {
  auto r = RunProcess({"ls", "/proc/self/fd"}, options_);
  ASSERT_TRUE(r.ok()) << r.status();
  // 0, 1, 2 and the directory ls itself opened (3).
  EXPECT_EQ(testing_util::ReadFile(options_.log_path), "0\n1\n2\n3\n");
}

TEST_F(ProcessTest, TimeoutKillsTheWholeGroup) {
  options_.timeout = absl::Milliseconds(300);
  std::string marker = dir_ + "/late";
  absl::Time start = absl::Now();
  auto r = RunProcess(
      {"sh", "-c", "(sleep 2; touch \"$1\") & sleep 30", "sh", marker},
      options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->Describe(), "timed out (killed)");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  absl::SleepFor(absl::Milliseconds(2500));  // when the orphan would write
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "a child outlived the kill";
}

TEST_F(ProcessTest, MissingProgramsAndBadArgvAreErrors) {
  auto r = RunProcess({"pbrx-no-such-tool"}, options_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(),
            "pbrx-no-such-tool: not found or not executable in "
            "PATH=/usr/bin:/bin");
  EXPECT_EQ(RunProcess({}, options_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      RunProcess({"echo", std::string("a\0b", 3)}, options_).status().code(),
      absl::StatusCode::kInvalidArgument);
  options_.cwd = dir_ + "/missing";
  r = RunProcess({"true"}, options_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "cannot change to " + dir_ +
                                      "/missing to run true: No such file or "
                                      "directory");
}

TEST_F(ProcessTest, ReadTailGivesTheLastLines) {
  {
    std::ofstream f(dir_ + "/t");
    for (int i = 1; i <= 100; ++i) f << "line " << i << "\n";
  }
  EXPECT_EQ(ReadTail(dir_ + "/t", 3), "line 98\nline 99\nline 100");
  EXPECT_EQ(ReadTail(dir_ + "/t", 1000).substr(0, 7), "line 1\n");
  EXPECT_EQ(ReadTail(dir_ + "/none", 3), "");
}

}  // namespace
}  // namespace pbrx::common
