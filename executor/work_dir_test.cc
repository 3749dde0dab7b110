#include "executor/work_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::executor {
namespace {

int Mode(const std::string& p) {
  struct stat st;
  return lstat(p.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

TEST(WorkDirTest, CreatedPrivateAndStaleRunsRemoved) {
  std::string dir = testing_util::NewTempDir("wd") + "/executor";
  ASSERT_TRUE(PrepareWorkDir(dir).ok());
  EXPECT_EQ(Mode(dir), 0700);
  EXPECT_EQ(Mode(dir + "/runs"), 0700);
  // A crashed process left a run dir; an open mode is tightened.
  mkdir((dir + "/runs/123-0").c_str(), 0755);
  std::ofstream(dir + "/runs/123-0/out") << "stale";
  chmod(dir.c_str(), 0777);
  ASSERT_TRUE(PrepareWorkDir(dir).ok());
  EXPECT_EQ(Mode(dir), 0700);
  EXPECT_EQ(Mode(dir + "/runs/123-0"), -1);
}

TEST(WorkDirTest, SymlinksAndOtherUsersDirectoriesAreRefused) {
  std::string base = testing_util::NewTempDir("wd");
  std::string target = base + "/elsewhere";
  mkdir(target.c_str(), 0700);
  symlink(target.c_str(), (base + "/link").c_str());
  absl::Status s = PrepareWorkDir(base + "/link");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            base + "/link is not a directory (a symlink or a file)");
  std::string theirs = base + "/theirs";
  mkdir(theirs.c_str(), 0777);
  ASSERT_EQ(chown(theirs.c_str(), 65534, 65534), 0);  // nobody
  s = PrepareWorkDir(theirs);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), theirs +
                             " is owned by uid 65534, not by this "
                             "process (uid 0); refusing to work in it");
}

}  // namespace
}  // namespace pbrx::executor
