#include "cache/directory_tree.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "cache/counting_blob_store.h"
#include "cache/in_memory_blob_store.h"
#include "common/missing_blobs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::cache {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

std::string Read(const std::string& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ReadProtoBlobTest, MessageBlobsOverTheCapAreRefusedUnread) {
  cache::InMemoryBlobStore cas;
  std::string big(kMaxMessageBlobBytes + 1, '\0');
  common::Digest d = WriteBlob(cas, big).value();
  auto r = ReadProtoBlob<build::bazel::remote::execution::v2::Directory>(
      cas, d.ToProto(), "directory");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "the directory " + d.ToString() +
                " is 4194305 bytes, more than the 4194304 a message blob may "
                "have");
  // At the cap it is read (and parses: zero bytes are an empty message).
  common::Digest ok = WriteBlob(cas, "").value();
  EXPECT_TRUE(ReadProtoBlob<build::bazel::remote::execution::v2::Directory>(
                  cas, ok.ToProto(), "directory")
                  .ok());
}

TEST(InputTreeTest, RoundTripKeepsContentModesAndSymlinks) {
  cache::InMemoryBlobStore cas;
  std::string src = testing_util::NewTempDir("src");
  mkdir((src + "/pkg").c_str(), 0755);
  mkdir((src + "/empty").c_str(), 0755);
  std::ofstream(src + "/pkg/mod.py") << "x = 1\n";
  std::ofstream(src + "/run.sh") << "#!/bin/sh\n";
  chmod((src + "/run.sh").c_str(), 0755);
  symlink("pkg/mod.py", (src + "/link").c_str());
  auto up = UploadDirectory(src, cas);
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->files, 2);
  // Same tree, same digest.
  EXPECT_EQ(UploadDirectory(src, cas)->root, up->root);

  std::string dst = testing_util::NewTempDir("dst");
  ASSERT_TRUE(StageDirectory(up->root, cas, dst).ok());
  EXPECT_EQ(Read(dst + "/pkg/mod.py"), "x = 1\n");
  EXPECT_EQ(Read(dst + "/link"), "x = 1\n");
  struct stat st;
  ASSERT_EQ(stat((dst + "/run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  ASSERT_EQ(stat((dst + "/empty").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST(UploadTest, ATreeGoesUpWithOneCheckAndOneBatch) {
  CountingBlobStore cas;
  std::string src = testing_util::NewTempDir("many");
  mkdir((src + "/sub").c_str(), 0755);
  for (int i = 0; i < 50; ++i)
    std::ofstream(src + "/sub/f" + std::to_string(i)) << "file " << i;
  std::ofstream(src + "/big") << std::string(100 * 1024, 'b');
  auto up = UploadDirectory(src, cas);
  ASSERT_TRUE(up.ok()) << up.status();
  // 50 small files and 2 Directory messages in one batch; the 100 KiB file
  // streamed.
  EXPECT_EQ(cas.finds, 1);
  EXPECT_EQ(cas.batch_sizes, std::vector<int>{52});
  EXPECT_EQ(cas.writes, 1);
  std::string dst = testing_util::NewTempDir("many-dst");
  ASSERT_TRUE(StageDirectory(up->root, cas.store, dst).ok());
  EXPECT_EQ(Read(dst + "/sub/f49"), "file 49");
  EXPECT_EQ(Read(dst + "/big"), std::string(100 * 1024, 'b'));
  // Unchanged: one check, nothing sent.
  ASSERT_TRUE(UploadDirectory(src, cas).ok());
  EXPECT_EQ(cas.finds, 2);
  EXPECT_EQ(cas.batch_sizes, std::vector<int>{52});
  EXPECT_EQ(cas.writes, 1);
}

TEST(UploadTest, FilesGoUpTogetherInOrder) {
  CountingBlobStore cas;
  std::string dir = testing_util::NewTempDir("files");
  std::ofstream(dir + "/out") << "stdout";
  std::ofstream(dir + "/err") << "";
  std::ofstream(dir + "/present") << "already there";
  std::ofstream(dir + "/layer") << std::string(70 * 1024, 'l');
  ASSERT_TRUE(WriteBlob(cas.store, "already there").ok());
  auto d = UploadFiles(
      {dir + "/out", dir + "/err", dir + "/present", dir + "/layer"}, cas);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, (std::vector<Digest>{Digest::Of("stdout"), Digest::Empty(),
                                     Digest::Of("already there"),
                                     Digest::Of(std::string(70 * 1024, 'l'))}));
  EXPECT_EQ(cas.finds, 1);
  EXPECT_EQ(cas.batch_sizes, std::vector<int>{1});  // "stdout" only
  EXPECT_EQ(cas.writes, 1);                         // the layer, streamed
  EXPECT_EQ(ReadBlob(cas.store, Digest::Of("stdout")).value(), "stdout");
  absl::Status absent = UploadFiles({dir + "/absent"}, cas).status();
  EXPECT_EQ(absent.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(absent.message()),
              ::testing::HasSubstr("cannot open " + dir + "/absent"));
}

Digest PutDir(cache::BlobStore& cas, const re::Directory& d) {
  return cache::WriteBlob(cas, d.SerializeAsString()).value();
}

TEST(InputTreeTest, RefusesUnsafeTreesAndReportsMissingBlobs) {
  cache::InMemoryBlobStore cas;
  std::string dst = testing_util::NewTempDir("dst");
  re::Directory evil;
  auto* l = evil.add_symlinks();
  l->set_name("escape");
  l->set_target("../../etc/passwd");
  absl::Status s = StageDirectory(PutDir(cas, evil), cas, dst);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()),
            "symlink 'escape' -> '../../etc/passwd' is unsafe (absolute or "
            "leaves the tree)");
  re::Directory abs;
  auto* a = abs.add_symlinks();
  a->set_name("abs");
  a->set_target("/etc/passwd");
  EXPECT_EQ(StageDirectory(PutDir(cas, abs), cas, dst).code(),
            absl::StatusCode::kInvalidArgument);
  re::Directory dots;
  auto* f = dots.add_files();
  f->set_name("..");
  *f->mutable_digest() = Digest::Empty().ToProto();
  EXPECT_EQ(StageDirectory(PutDir(cas, dots), cas, dst).code(),
            absl::StatusCode::kInvalidArgument);
  re::Directory missing;
  auto* m = missing.add_files();
  m->set_name("gone");
  Digest gone = Digest::Of("never uploaded");
  *m->mutable_digest() = gone.ToProto();
  s = StageDirectory(PutDir(cas, missing), cas,
                     testing_util::NewTempDir("dst2"));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(common::MissingBlobsOf(s), ::testing::ElementsAre(gone));
}

TEST(InputTreeTest, RefusesSymlinkChainsThatLeaveTheTree) {
  // Each link alone stays inside (a/up -> .. is the root), but followed
  // through a/up, esc -> a/up/.. climbs above it.
  cache::InMemoryBlobStore cas;
  re::Directory a;
  auto* up = a.add_symlinks();
  up->set_name("up");
  up->set_target("..");
  re::Directory root;
  auto* ad = root.add_directories();
  ad->set_name("a");
  *ad->mutable_digest() = PutDir(cas, a).ToProto();
  re::Directory fine = root;
  auto* ok = fine.add_symlinks();
  ok->set_name("ok");
  ok->set_target("a/up/a/up");  // the root again: allowed
  EXPECT_TRUE(StageDirectory(PutDir(cas, fine), cas,
                             testing_util::NewTempDir("chain-ok"))
                  .ok());
  auto* esc = root.add_symlinks();
  esc->set_name("esc");
  esc->set_target("a/up/..");
  absl::Status s =
      StageDirectory(PutDir(cas, root), cas, testing_util::NewTempDir("chain"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "symlink 'esc' leaves the tree when followed (through 'a/up')");
  // A loop is refused too (as the kernel's ELOOP would).
  re::Directory loop;
  auto* x = loop.add_symlinks();
  x->set_name("x");
  x->set_target("y");
  auto* y = loop.add_symlinks();
  y->set_name("y");
  y->set_target("x");
  EXPECT_EQ(
      StageDirectory(PutDir(cas, loop), cas, testing_util::NewTempDir("loop"))
          .code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pbrx::cache
