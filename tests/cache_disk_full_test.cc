// pbrx-cache on a disk that fills up, and frees again, without a restart:
//   - with --min-free-space, writes that add data are refused with
//     RESOURCE_EXHAUSTED naming the bound before RocksDB could run out;
//   - when something else fills the disk to the last byte, Debian's RocksDB
//     7.8 (built with assertions) aborts the process inside its write-ahead
//     log on the first append that fails (fixed upstream in RocksDB 9,
//     facebook/rocksdb#12448); what the cache promises then is that a
//     restart on the same data dir, once space is back, loses nothing
//     acknowledged and takes writes again (if the process survived, it must
//     take them without a restart);
// and every write acknowledged before reads back. The data dir is a small tmpfs
// in a mount namespace of this test's own (root: "local").
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "tests/cache_server_fixture.h"

namespace pbrx::cache_test {
namespace {

int64_t FreeBytes(const std::string& dir) {
  struct statvfs s;
  if (statvfs(dir.c_str(), &s) != 0) return -1;
  return static_cast<int64_t>(s.f_bavail) * static_cast<int64_t>(s.f_frsize);
}

class DiskFullTest : public CacheServerTest {
 protected:
  // The server on a fresh 96 MiB tmpfs, with `flags`.
  void StartOnSmallDisk(const std::vector<std::string>& flags) {
    server_->Stop(SIGTERM, absl::Seconds(10)).IgnoreError();
    disk_ = testing_util::NewTempDir("disk");
    ASSERT_EQ(unshare(CLONE_NEWNS), 0);
    ASSERT_EQ(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
    ASSERT_EQ(mount("tmpfs", disk_.c_str(), "tmpfs", 0, "size=96m"), 0)
        << strerror(errno);
    data_dir_ = disk_ + "/db";
    StartServer(flags);
    for (int i = 0; i < 4; ++i) Acked(Pattern(1 << 20, 500 + i), "pre-");
  }
  void TearDown() override {
    if (HasFailure()) {  // the server's own account
      for (const auto& e : std::filesystem::recursive_directory_iterator(
               getenv("TEST_TMPDIR"))) {
        if (e.path().filename() == "stderr")
          std::cerr << e.path() << ":\n"
                    << testing_util::ReadFile(e.path().string()) << "\n";
      }
    }
    server_->Stop(SIGTERM, absl::Seconds(10)).IgnoreError();
    if (!disk_.empty()) umount2(disk_.c_str(), MNT_DETACH);
  }

  grpc::Status Acked(const std::string& data, const std::string& tag) {
    Digest d = Digest::Of(data);
    grpc::Status st =
        Upload(WriteName(d, absl::StrCat(tag, acked_.size())), data);
    if (st.ok()) acked_.emplace_back(d, data);
    return st;
  }

  // Fills the disk with a file of the test's own down to `leave` bytes
  // free (0: until the filesystem refuses more), then uploads 1 MiB blobs
  // until one is refused; returns that refusal.
  grpc::Status Fill(int64_t leave) {
    std::ofstream f(disk_ + "/filler", std::ios::binary);
    std::string piece(leave > 0 ? 1 << 20 : 4096, 'f');
    while (FreeBytes(disk_) > leave && f.write(piece.data(), piece.size())) {
      f.flush();
    }
    f.close();
    grpc::Status refused;
    for (int i = 0; i < 64 && refused.ok(); ++i)
      refused = Acked(Pattern(1 << 20, 600 + i), "full-");
    std::cerr << "refused with: " << refused.error_code() << " "
              << refused.error_message() << "\n";
    return refused;
  }

  // Frees the disk; uploads until one is accepted (bounded).
  void FreeAndWriteAgain() {
    ASSERT_EQ(unlink((disk_ + "/filler").c_str()), 0);
    grpc::Status again;
    int tries = 0;
    for (; tries < 100; ++tries) {
      again = Acked(Pattern(1 << 20, 777 + tries), "after-");
      if (again.ok()) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_TRUE(again.ok()) << again.error_message();
    std::cerr << "writes accepted again after " << tries + 1 << " attempt(s)\n";
  }

  void ExpectAckedReadable() {
    for (const auto& [d, bytes] : acked_) {
      std::string back;
      ASSERT_TRUE(Download(ReadName(d), &back).ok()) << d.ToString();
      EXPECT_TRUE(back == bytes) << d.ToString();
    }
  }

  std::string disk_;
  std::vector<std::pair<Digest, std::string>> acked_;
};

TEST_F(DiskFullTest, WritesAreRefusedBeforeTheDiskIsFullAndResume) {
  StartOnSmallDisk({"--min-free-space=16M"});
  grpc::Status refused = Fill(4 << 20);
  ASSERT_FALSE(refused.ok()) << "the disk never filled up";
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("below --min-free-space 16 MiB; writes resume once "
                        "space is freed"));
  ExpectAckedReadable();  // reads go on meanwhile
  FreeAndWriteAgain();
  ExpectAckedReadable();
}

TEST_F(DiskFullTest, ADiskFilledFromElsewhereLosesNothingAcknowledged) {
  StartOnSmallDisk({"--min-free-space=0"});
  grpc::Status refused = Fill(0);
  ASSERT_FALSE(refused.ok()) << "the disk never filled up";
  re::ServerCapabilities caps;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  const bool alive = caps_->GetCapabilities(&ctx, {}, &caps).ok();
  std::cerr << "the cache " << (alive ? "survived" : "died") << "\n";
  if (alive) {
    EXPECT_TRUE(refused.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
                refused.error_code() == grpc::StatusCode::UNAVAILABLE)
        << refused.error_code() << " " << refused.error_message();
    ExpectAckedReadable();
    FreeAndWriteAgain();
  } else {
    ASSERT_EQ(unlink((disk_ + "/filler").c_str()), 0);
    server_->Stop(SIGKILL, absl::Seconds(10)).IgnoreError();
    StartServer({"--min-free-space=0"});
    ASSERT_TRUE(Acked(Pattern(1 << 20, 999), "restarted-").ok());
  }
  ExpectAckedReadable();
}

}  // namespace
}  // namespace pbrx::cache_test
