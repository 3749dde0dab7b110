// Hostile layers: a base image is someone else's bytes. Each layer of the
// corpus below is extracted by the real LayerStore; each attack is refused
// with the entry named, and a canary tree on the host (the target every
// escaping entry aims at) is byte-identical afterwards. A few benign
// layers check that what a real rootfs needs still works.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cache/in_memory_blob_store.h"
#include "executor/layer_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::executor {
namespace {

using common::Digest;
using ::testing::HasSubstr;

struct Entry {
  std::string name;
  char type = 'f';  // f file, d dir, l symlink, h hard link, c char dev, p fifo
  std::string payload;  // file content, symlink target or hard link target
  int mode = 0644;
  int64_t zeros = 0;  // a file of this many zero bytes (payload ignored)
  int64_t uid = 0, gid = 0;
};

// A gzip tar with exactly these entries, in this order.
std::string MakeTar(const std::vector<Entry>& entries) {
  std::string path = testing_util::NewTempDir("tar") + "/layer.tar.gz";
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  archive_write_open_filename(a, path.c_str());
  for (const Entry& e : entries) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.name.c_str());
    archive_entry_set_perm(ae, e.mode);
    archive_entry_set_uid(ae, e.uid);
    archive_entry_set_gid(ae, e.gid);
    switch (e.type) {
      case 'd':
        archive_entry_set_filetype(ae, AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_symlink(ae, e.payload.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_hardlink(ae, e.payload.c_str());
        break;
      case 'c':
        archive_entry_set_filetype(ae, AE_IFCHR);
        archive_entry_set_rdevmajor(ae, 1);
        archive_entry_set_rdevminor(ae, 3);
        break;
      case 'p':
        archive_entry_set_filetype(ae, AE_IFIFO);
        break;
      default:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_size(
            ae, e.zeros > 0 ? e.zeros : static_cast<int64_t>(e.payload.size()));
    }
    archive_write_header(a, ae);
    if (e.type == 'f') {
      if (e.zeros > 0) {
        std::string block(1 << 20, '\0');
        for (int64_t left = e.zeros; left > 0; left -= block.size())
          archive_write_data(a, block.data(),
                             std::min<int64_t>(left, block.size()));
      } else {
        archive_write_data(a, e.payload.data(), e.payload.size());
      }
    }
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return testing_util::ReadFile(path);
}

// Every path under `dir` with its type, mode, content/target and xattrs.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::vector<std::string> todo = {""};
  while (!todo.empty()) {
    std::string rel = todo.back();
    todo.pop_back();
    std::string path = dir + rel;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    char xattr[256] = {0};
    ssize_t xn = llistxattr(path.c_str(), xattr, sizeof(xattr));
    std::string desc = std::to_string(st.st_mode) +
                       " xattrs=" + std::string(xattr, xn > 0 ? xn : 0);
    if (S_ISREG(st.st_mode)) desc += " " + testing_util::ReadFile(path);
    out[rel.empty() ? "/" : rel] = desc;
    if (!S_ISDIR(st.st_mode)) continue;
    DIR* d = opendir(path.c_str());
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") todo.push_back(rel + "/" + n);
    }
    closedir(d);
  }
  return out;
}

class HostileLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    canary_ = testing_util::NewTempDir("canary");
    mkdir((canary_ + "/cron.d").c_str(), 0755);
    std::ofstream(canary_ + "/passwd") << "root:x:0:0::/root:/bin/sh\n";
    std::ofstream(canary_ + "/keep") << "keep me\n";
    before_ = Snapshot(canary_);
    LayerLimits limits;
    limits.max_bytes = 200 << 20;
    limits.max_entries = 1000;
    limits.max_path = 1024;
    store_ = std::move(
        LayerStore::Create(testing_util::NewTempDir("layers"), &cas_, 0, limits)
            .value());
  }
  void TearDown() override {
    EXPECT_EQ(Snapshot(canary_), before_) << "the host canary tree changed";
  }
  // Extracts the layer; returns the status message without its "layer
  // DIGEST: " prefix (checked here), "" when it succeeded (the extracted
  // directory in *dir).
  std::string Extract(const std::vector<Entry>& entries,
                      std::string* dir = nullptr) {
    auto d = cache::WriteBlob(cas_, MakeTar(entries));
    EXPECT_TRUE(d.ok());
    auto got = store_->Get(*d);
    if (got.ok()) {
      if (dir != nullptr) *dir = *got;
      return "";
    }
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument)
        << got.status();
    std::string m(got.status().message());
    std::string prefix = "layer " + d->ToString() + ": ";
    return m.rfind(prefix, 0) == 0 ? m.substr(prefix.size()) : m;
  }
  static std::string Refusal(const std::string& entry, const std::string& why) {
    return "entry '" + entry + "': " + why;
  }

  cache::InMemoryBlobStore cas_;
  std::unique_ptr<LayerStore> store_;
  std::string canary_;
  std::map<std::string, std::string> before_;
};

constexpr char kThroughSymlink[] =
    "'x' is a symlink (paths are never followed through one)";

TEST_F(HostileLayerTest, FileThroughASymlinkedDirectory) {
  std::string m =
      Extract({{"x", 'l', canary_}, {"x/cron.d/p", 'f', "* * * * * root sh"}});
  EXPECT_EQ(m, Refusal("x/cron.d/p", kThroughSymlink));
}

TEST_F(HostileLayerTest, DirectoryThroughASymlinkedDirectory) {
  EXPECT_EQ(Extract({{"x", 'l', canary_}, {"x/new", 'd'}}),
            Refusal("x/new", kThroughSymlink));
}

TEST_F(HostileLayerTest, SymlinkThroughASymlinkedDirectory) {
  EXPECT_EQ(Extract({{"x", 'l', canary_}, {"x/evil", 'l', "/"}}),
            Refusal("x/evil", kThroughSymlink));
}

TEST_F(HostileLayerTest, DotDotNames) {
  EXPECT_EQ(Extract({{"a/../../escape", 'f', "x"}}),
            Refusal("a/../../escape", "absolute or contains '..'"));
  EXPECT_EQ(Extract({{"../escape", 'f', "x"}}),
            Refusal("../escape", "absolute or contains '..'"));
}

TEST_F(HostileLayerTest, AbsoluteNames) {
  EXPECT_EQ(Extract({{canary_ + "/passwd", 'f', "owned"}}),
            Refusal(canary_ + "/passwd", "absolute or contains '..'"));
}

TEST_F(HostileLayerTest, HardLinkToAHostPath) {
  EXPECT_EQ(
      Extract({{"shadow", 'h', canary_ + "/passwd"}}),
      Refusal("shadow", "a hard link to '" + canary_ +
                            "/passwd', which is absolute or contains '..'"));
  EXPECT_EQ(Extract({{"shadow", 'h', "../../passwd"}}),
            Refusal("shadow",
                    "a hard link to '../../passwd', which is "
                    "absolute or contains '..'"));
}

TEST_F(HostileLayerTest, HardLinkThroughASymlink) {
  EXPECT_EQ(Extract({{"s", 'l', canary_}, {"h", 'h', "s/passwd"}}),
            Refusal("h",
                    "a hard link to 's/passwd', which is not an earlier "
                    "regular file of this layer"));
}

TEST_F(HostileLayerTest, HardLinkToASymlinkOrALaterEntry) {
  EXPECT_EQ(Extract({{"s", 'l', canary_ + "/passwd"}, {"h", 'h', "s"}}),
            Refusal("h",
                    "a hard link to 's', which is not an earlier regular "
                    "file of this layer"));
  EXPECT_EQ(Extract({{"h", 'h', "later"}, {"later", 'f', "x"}}),
            Refusal("h",
                    "a hard link to 'later', which is not an earlier "
                    "regular file of this layer"));
}

TEST_F(HostileLayerTest, WhiteoutThroughASymlink) {
  EXPECT_EQ(Extract({{"x", 'l', canary_}, {"x/.wh.keep", 'f'}}),
            Refusal("x/.wh.keep", kThroughSymlink));
}

TEST_F(HostileLayerTest, OpaqueMarkerThroughASymlink) {
  EXPECT_EQ(Extract({{"x", 'l', canary_}, {"x/.wh..wh..opq", 'f'}}),
            Refusal("x/.wh..wh..opq", kThroughSymlink));
}

TEST_F(HostileLayerTest, WhiteoutsThatNameNothing) {
  EXPECT_EQ(Extract({{"d", 'd', "", 0755}, {"d/.wh..", 'f'}}),
            Refusal("d/.wh..", "not a valid whiteout"));
  EXPECT_EQ(Extract({{"d", 'd', "", 0755}, {"d/.wh...", 'f'}}),
            Refusal("d/.wh...", "not a valid whiteout"));
}

TEST_F(HostileLayerTest, DevicesAndFifos) {
  EXPECT_EQ(Extract({{"dev/mem", 'c'}}),
            Refusal("dev/mem", "a device, FIFO or socket"));
  EXPECT_EQ(Extract({{"fifo", 'p'}}),
            Refusal("fifo", "a device, FIFO or socket"));
}

TEST_F(HostileLayerTest, GzipBomb) {
  // 100 MiB of zeros (about 100 KiB compressed) against a 200 MiB cap but
  // a 250:1 ratio: refused once past 64 MiB.
  std::string m = Extract({{"bomb", 'f', "", 0644, int64_t{100} << 20}});
  EXPECT_EQ(m, Refusal("bomb", "takes the compression ratio over 250:1"));
}

TEST_F(HostileLayerTest, TooManyBytes) {
  LayerLimits limits;
  limits.max_bytes = 1 << 20;
  store_ = std::move(
      LayerStore::Create(testing_util::NewTempDir("small"), &cas_, 0, limits)
          .value());
  EXPECT_EQ(Extract({{"big", 'f', std::string(2 << 20, 'x')}}),
            Refusal("big", "takes the layer over 1048576 uncompressed bytes"));
}

TEST_F(HostileLayerTest, TooManyEntries) {
  std::vector<Entry> many;
  for (int i = 0; i <= 1000; ++i)
    many.push_back({"f" + std::to_string(i), 'f', "x"});
  EXPECT_EQ(Extract(many), Refusal("f1000", "more than 1000 entries"));
}

TEST_F(HostileLayerTest, OverlongPath) {
  std::string name(1100, 'a');
  EXPECT_EQ(Extract({{name, 'f', "x"}}),
            Refusal(std::string(64, 'a') + "...",
                    "has a name longer than 1024 bytes"));
}

TEST_F(HostileLayerTest, OwnersAreShiftedIntoTheSandboxIds) {
  // Root's files belong to the sandbox's root, _apt's (42) to its 42: no
  // extracted file is the host's root's, so a step's capabilities never
  // reach one.
  std::string dir;
  ASSERT_EQ(
      Extract({{"etc", 'd', "", 0755},
               {"etc/shadow", 'f', "root::1:0:99999:7:::\n", 0640, 0, 0, 42},
               {"var/cache/apt", 'd', "", 0700, 0, 42, 0},
               {"usr/bin/passwd", 'f', "#!/bin/sh\n", 04755},
               {"nobody", 'f', "x", 0644, 0, 65534, 65534}},
              &dir),
      "");
  SandboxIds ids;
  struct stat st;
  ASSERT_EQ(lstat((dir + "/etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ids.first);
  EXPECT_EQ(st.st_gid, ids.first);
  ASSERT_EQ(lstat((dir + "/etc/shadow").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ids.first);
  EXPECT_EQ(st.st_gid, ids.first + 42);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ASSERT_EQ(lstat((dir + "/var/cache/apt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ids.first + 42);
  ASSERT_EQ(lstat((dir + "/usr/bin/passwd").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ids.first);
  EXPECT_EQ(st.st_mode & 07777, 04755u);  // set-id bits survive the chown
  ASSERT_EQ(lstat((dir + "/nobody").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ids.first + 65534);
}

TEST_F(HostileLayerTest, OwnersOutsideTheSandboxIds) {
  // An owner the range cannot hold would map to a host id outside it.
  EXPECT_EQ(Extract({{"big-uid", 'f', "x", 0644, 0, 65536, 0}}),
            Refusal("big-uid",
                    "has owner id 65536, outside the 65536 ids of a sandbox "
                    "(--sandbox-id-range)"));
  EXPECT_EQ(Extract({{"big-gid", 'd', "", 0755, 0, 0, 4294967294}}),
            Refusal("big-gid",
                    "has owner id 4294967294, outside the 65536 ids of a "
                    "sandbox (--sandbox-id-range)"));
}

TEST_F(HostileLayerTest, NotATar) {
  auto d = cache::WriteBlob(cas_, "this is not a tar, and not gzip either");
  auto got = store_->Get(*d);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(got.status().message()),
              HasSubstr("layer " + d->ToString() + ": "));
}

TEST_F(HostileLayerTest, DotSlashNamesAsTarWritesThem) {
  // `tar -C ROOT .` (and mmdebstrap) write "./" first and "./" before
  // every name: the root itself, and names inside it.
  std::string dir;
  ASSERT_EQ(Extract({{"./", 'd', "", 0755},
                     {"./bin/", 'd', "", 0755},
                     {"./bin/sh", 'f', "#!/bin/sh\n", 0755},
                     {"././etc", 'd', "", 0755}},
                    &dir),
            "");
  EXPECT_EQ(testing_util::ReadFile(dir + "/bin/sh"), "#!/bin/sh\n");
  struct stat st;
  ASSERT_EQ(lstat((dir + "/etc").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(Extract({{"./../escape", 'f', "x"}}, &dir),
            "entry './../escape': absolute or contains '..'");
}

TEST_F(HostileLayerTest, WhatARealRootfsNeedsStillWorks) {
  std::string dir;
  ASSERT_EQ(Extract({{"etc", 'd', "", 0755},
                     {"etc/alternatives", 'd', "", 0755},
                     // Absolute symlinks are normal in a rootfs: kept, not
                     // followed.
                     {"etc/alternatives/pager", 'l', canary_ + "/passwd"},
                     {"usr/bin", 'd', "", 0755},
                     {"bin", 'd', "", 0755},
                     {"bin/su", 'f', "#!/bin/sh\n", 04755},
                     {"bin/su2", 'h', "bin/su"},
                     // A symlink replaced by a directory: the symlink goes,
                     // its target stays.
                     {"x", 'l', canary_},
                     {"x", 'd', "", 0755},
                     {"x/f", 'f', "mine"},
                     // Whiteouts and an opaque directory in overlay form.
                     {"etc/.wh.gone", 'f'},
                     {"var", 'd', "", 0755},
                     {"var/.wh..wh..opq", 'f'}},
                    &dir),
            "");
  char target[4096] = {0};
  ASSERT_GT(readlink((dir + "/etc/alternatives/pager").c_str(), target,
                     sizeof(target)),
            0);
  EXPECT_EQ(std::string(target), canary_ + "/passwd");
  struct stat st;
  ASSERT_EQ(lstat((dir + "/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  struct stat st2;
  ASSERT_EQ(lstat((dir + "/bin/su2").c_str(), &st2), 0);
  EXPECT_EQ(st.st_ino, st2.st_ino);
  ASSERT_EQ(lstat((dir + "/x").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(testing_util::ReadFile(dir + "/x/f"), "mine");
  ASSERT_EQ(lstat((dir + "/etc/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  char v[8] = {0};
  EXPECT_EQ(lgetxattr((dir + "/var").c_str(), "trusted.overlay.opaque", v, 8),
            1);
}

}  // namespace
}  // namespace pbrx::executor
