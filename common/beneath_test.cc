#include "common/beneath.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::common {
namespace {

class BeneathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing_util::NewTempDir("tree");
    outside_ = testing_util::NewTempDir("outside");
    std::ofstream(outside_ + "/secret") << "host secret\n";
    mkdir((root_ + "/sub").c_str(), 0755);
    std::ofstream(root_ + "/sub/setup.cfg") << "[metadata]\nname = x\n";
  }
  std::string root_, outside_;
};

TEST_F(BeneathTest, ReadsRegularFilesBeneathTheRoot) {
  auto r = ReadFileBeneath(root_, "sub/setup.cfg", 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "[metadata]\nname = x\n");
  EXPECT_EQ(ReadFileBeneath(root_, "sub/none", 1 << 20).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadFileBeneath(root_, "nodir/x", 1 << 20).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(BeneathTest, SymlinksOutDevicesAndBigFilesAreRefused) {
  // A symlink inside the tree is fine.
  symlink("sub/setup.cfg", (root_ + "/setup.cfg").c_str());
  auto r = ReadFileBeneath(root_, "setup.cfg", 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "[metadata]\nname = x\n");
  // Out of the tree: absolute, relative with "..", through a directory.
  symlink((outside_ + "/secret").c_str(), (root_ + "/pyproject.toml").c_str());
  r = ReadFileBeneath(root_, "pyproject.toml", 1 << 20);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            root_ + "/pyproject.toml: leaves " + root_ +
                " (through a symlink or '..'); files are read only beneath "
                "it");
  symlink(
      ("../" + outside_.substr(outside_.rfind('/') + 1) + "/secret").c_str(),
      (root_ + "/rel").c_str());
  EXPECT_EQ(ReadFileBeneath(root_, "rel", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  symlink(outside_.c_str(), (root_ + "/git").c_str());
  EXPECT_EQ(ReadFileBeneath(root_, "git/secret", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadFileBeneath(root_, "../x/secret", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  // /dev/zero through a symlink (as a .git ref could be): refused, not read
  // forever.
  symlink("/dev/zero", (root_ + "/HEAD").c_str());
  EXPECT_EQ(ReadFileBeneath(root_, "HEAD", 4096).status().code(),
            absl::StatusCode::kInvalidArgument);
  mkfifo((root_ + "/fifo").c_str(), 0644);
  r = ReadFileBeneath(root_, "fifo", 4096);
  EXPECT_EQ(r.status().message(), root_ + "/fifo: is not a regular file");
  std::ofstream(root_ + "/big") << std::string(5000, 'x');
  r = ReadFileBeneath(root_, "big", 4096);
  EXPECT_EQ(r.status().message(),
            root_ + "/big: 5000 bytes, more than the limit of 4096");
}

TEST_F(BeneathTest, RemoveAtNeverFollowsASymlink) {
  mkdir((root_ + "/d").c_str(), 0755);
  symlink(outside_.c_str(), (root_ + "/d/link").c_str());
  UniqueFd fd(open(root_.c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(RemoveAt(fd.get(), "d").ok());
  struct stat st;
  EXPECT_NE(lstat((root_ + "/d").c_str(), &st), 0);
  EXPECT_EQ(testing_util::ReadFile(outside_ + "/secret"), "host secret\n");
}

}  // namespace
}  // namespace pbrx::common
