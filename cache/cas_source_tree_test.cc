#include "cache/cas_source_tree.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "cache/in_memory_blob_store.h"
#include "common/project/source_tree.h"
#include "executor/input_tree.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::cache {
namespace {

// The same tree read on disk and from the CAS gives the same answers, the
// same errors and the same messages (the label stands for the directory).
TEST(CasSourceTreeTest, AnswersAsTheDirectoryDoes) {
  std::string dir = testing_util::NewTempDir("src");
  mkdir((dir + "/a").c_str(), 0755);
  mkdir((dir + "/a/b").c_str(), 0755);
  std::ofstream(dir + "/a/setup.cfg") << "[metadata]\nname = x\n";
  std::ofstream(dir + "/a/b/deep.txt") << "deep";
  std::ofstream(dir + "/big") << std::string(100, 'x');
  for (const auto& [name, target] :
       std::vector<std::pair<std::string, std::string>>{
           {"link-in", "a/setup.cfg"},
           {"c1", "c2"},
           {"c2", "a/setup.cfg"},
           {"up", "a/.."},
           {"a/b/back", "../setup.cfg"},
           {"dir-link", "a"},
           {"escape-abs", "/etc/passwd"},
           {"escape-up", "../outside"},
           {"a/escape-deep", "../../outside"},
           {"loop1", "loop2"},
           {"loop2", "loop1"},
       }) {
    ASSERT_EQ(symlink(target.c_str(), (dir + "/" + name).c_str()), 0) << name;
  }
  InMemoryBlobStore cas;
  absl::StatusOr<executor::UploadedTree> up =
      executor::UploadDirectory(dir, cas);
  ASSERT_TRUE(up.ok()) << up.status();
  common::project::DirSourceTree disk(dir);
  CasSourceTree stored(&cas, up->root, dir);
  for (const std::string& p : {"a/setup.cfg",
                               "link-in",
                               "c1",
                               "up/a/setup.cfg",
                               "a/b/back",
                               "dir-link/b/deep.txt",
                               "a/./b/../setup.cfg",
                               "escape-abs",
                               "escape-up",
                               "a/escape-deep",
                               "loop1",
                               "a",
                               "",
                               "missing",
                               "a/setup.cfg/x",
                               "a/setup.cfg/..",
                               "big",
                               "../a/setup.cfg",
                               "dir-link",
                               "up/up/a"}) {
    SCOPED_TRACE(p);
    absl::StatusOr<std::string> want = disk.ReadFile(p, 64);
    absl::StatusOr<std::string> got = stored.ReadFile(p, 64);
    EXPECT_EQ(got.status().code(), want.status().code());
    EXPECT_EQ(got.status().message(), want.status().message());
    if (want.ok() && got.ok()) EXPECT_EQ(*got, *want);
    EXPECT_EQ(stored.IsFile(p), disk.IsFile(p));
    EXPECT_EQ(stored.IsDir(p), disk.IsDir(p));
  }
  // Spot checks that the comparison above is not vacuous.
  EXPECT_EQ(stored.ReadFile("c1", 64).value(), "[metadata]\nname = x\n");
  EXPECT_EQ(stored.ReadFile("escape-abs", 64).status().message(),
            dir + "/escape-abs: leaves " + dir +
                " (through a symlink or '..'); files are read only beneath "
                "it");
  EXPECT_EQ(stored.ReadFile("big", 64).status().message(),
            dir + "/big: 100 bytes, more than the limit of 64");
  EXPECT_EQ(stored.ReadFile("loop1", 64).status().message(),
            dir + "/loop1: too many symlinks");
  EXPECT_TRUE(stored.IsDir("dir-link"));
  EXPECT_TRUE(stored.IsDir(""));
  EXPECT_FALSE(stored.IsFile("a"));
}

TEST(CasSourceTreeTest, AMissingDirectoryBlobIsNamed) {
  InMemoryBlobStore cas;
  common::Digest ghost = common::Digest::Of("no such directory");
  CasSourceTree stored(&cas, ghost, "/client/project");
  absl::StatusOr<std::string> r = stored.ReadFile("setup.cfg", 64);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "/client/project: directory " + ghost.ToString() +
                " of the uploaded tree is not in the CAS");
}

}  // namespace
}  // namespace pbrx::cache
