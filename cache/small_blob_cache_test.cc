#include "cache/small_blob_cache.h"

#include <string>
#include <vector>

#include "cache/counting_blob_store.h"
#include "common/clock.h"
#include "gtest/gtest.h"

namespace pbrx::cache {
namespace {

class SmallBlobCacheTest : public ::testing::Test {
 protected:
  SmallBlobCache& Cache(SmallBlobCacheOptions options = {}) {
    cache_ = std::make_unique<SmallBlobCache>(&base_, &clock_, options);
    return *cache_;
  }
  bool InBase(const Digest& d) {
    return base_.store.FindMissing({d}).value().empty();
  }

  CountingBlobStore base_;
  common::FakeClock clock_;
  std::unique_ptr<SmallBlobCache> cache_;
};

TEST_F(SmallBlobCacheTest, ASecondReadIsServedFromMemory) {
  SmallBlobCache& cache = Cache();
  const Digest d = WriteBlob(base_.store, "a directory").value();
  EXPECT_EQ(ReadBlob(cache, d).value(), "a directory");
  EXPECT_EQ(ReadBlob(cache, d).value(), "a directory");
  EXPECT_EQ(base_.reads, 1);
  auto ranged = cache.OpenRead(d, 2, 3).value();
  std::string piece;
  ASSERT_TRUE(ranged->Next(&piece).value());
  EXPECT_EQ(piece, "dir");
  EXPECT_EQ(base_.reads, 1);
  EXPECT_EQ(cache.OpenRead(d, 12, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  const SmallBlobCacheStats stats = cache.CacheStats();
  EXPECT_EQ(stats.read_misses, 1);
  EXPECT_EQ(stats.read_hits, 3);
  EXPECT_EQ(stats.blobs, 1);
  EXPECT_EQ(stats.bytes, 11);
}

TEST_F(SmallBlobCacheTest, AMissingBlobIsNotFoundAndNotHeld) {
  SmallBlobCache& cache = Cache();
  const Digest d = Digest::Of("never written");
  EXPECT_EQ(ReadBlob(cache, d).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadBlob(cache, d).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(base_.reads, 2);
  EXPECT_EQ(cache.FindMissing({d}).value(), std::vector<Digest>{d});
}

TEST_F(SmallBlobCacheTest, AConfirmedWriteIsSkippedUntilTheTtlEnds) {
  SmallBlobCacheOptions options;
  options.confirm_ttl = absl::Minutes(5);
  SmallBlobCache& cache = Cache(options);
  const Digest d = WriteBlob(cache, "an action").value();
  EXPECT_TRUE(InBase(d));
  EXPECT_EQ(base_.writes, 1);
  clock_.Advance(absl::Minutes(4));
  ASSERT_TRUE(WriteBlob(cache, d, "an action").ok());
  EXPECT_EQ(base_.writes, 1);
  clock_.Advance(absl::Minutes(2));  // 6 minutes since the write
  ASSERT_TRUE(WriteBlob(cache, d, "an action").ok());
  EXPECT_EQ(base_.writes, 2);
  const SmallBlobCacheStats stats = cache.CacheStats();
  EXPECT_EQ(stats.writes_sent, 2);
  EXPECT_EQ(stats.writes_skipped, 1);
}

TEST_F(SmallBlobCacheTest, FindMissingConfirmsPresenceForLaterWrites) {
  SmallBlobCacheOptions options;
  options.confirm_ttl = absl::Minutes(5);
  SmallBlobCache& cache = Cache(options);
  const Digest d = WriteBlob(cache, "a command").value();
  clock_.Advance(absl::Minutes(4));
  EXPECT_TRUE(cache.FindMissing({d}).value().empty());
  clock_.Advance(absl::Minutes(4));  // 8 since the write, 4 since the check
  ASSERT_TRUE(WriteBlob(cache, d, "a command").ok());
  EXPECT_EQ(base_.writes, 1);
}

TEST_F(SmallBlobCacheTest, FindMissingRestoresABlobTheBaseLost) {
  SmallBlobCache& cache = Cache();
  const Digest d = WriteBlob(cache, "an input directory").value();
  const Digest other = Digest::Of("held nowhere");
  ASSERT_TRUE(base_.store.Delete(d).ok());  // the remote cache evicted it
  ASSERT_TRUE(WriteBlob(cache, d, "an input directory").ok());  // skipped
  EXPECT_FALSE(InBase(d));
  EXPECT_EQ(cache.FindMissing({d, other}).value(), std::vector<Digest>{other});
  EXPECT_TRUE(InBase(d));
  EXPECT_EQ(ReadBlob(base_.store, d).value(), "an input directory");
  EXPECT_EQ(cache.CacheStats().restored, 1);
  // Several lost at once go back in one batch.
  const Digest e = WriteBlob(cache, "another directory").value();
  ASSERT_TRUE(base_.store.Delete(d).ok());
  ASSERT_TRUE(base_.store.Delete(e).ok());
  base_.batch_sizes.clear();
  EXPECT_TRUE(cache.FindMissing({d, e}).value().empty());
  EXPECT_EQ(base_.batch_sizes, std::vector<int>{2});
  EXPECT_TRUE(InBase(d) && InBase(e));
  EXPECT_EQ(cache.CacheStats().restored, 3);
}

TEST_F(SmallBlobCacheTest, WriteBlobsSendsOnlyWhatIsNotConfirmedInOneBatch) {
  SmallBlobCache& cache = Cache();
  const std::string a = "a command", b = "an action", c = "a directory";
  ASSERT_TRUE(WriteBlob(cache, a).ok());
  const BlobBytes blobs[] = {
      {Digest::Of(a), a}, {Digest::Of(b), b}, {Digest::Of(c), c}};
  ASSERT_TRUE(cache.WriteBlobs(blobs).ok());
  EXPECT_EQ(base_.batch_sizes, std::vector<int>{2});
  EXPECT_TRUE(InBase(Digest::Of(b)) && InBase(Digest::Of(c)));
  ASSERT_TRUE(cache.WriteBlobs(blobs).ok());  // all confirmed now
  EXPECT_EQ(base_.batch_sizes, std::vector<int>{2});
  EXPECT_EQ(cache.CacheStats().writes_skipped, 4);
  EXPECT_EQ(cache.CacheStats().writes_sent, 3);
  base_.reads = 0;
  EXPECT_EQ(ReadBlob(cache, Digest::Of(c)).value(), c);  // held
  EXPECT_EQ(base_.reads, 0);
  // Bytes that are not the digest's: refused, nothing sent.
  const std::string other = "x command";
  const BlobBytes forged[] = {{Digest::Of("another"), "not it!"},
                              {Digest::Of(other), other}};
  absl::Status s = cache.WriteBlobs(forged);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(base_.batch_sizes, std::vector<int>{2});
  EXPECT_FALSE(InBase(Digest::Of(other)));
}

TEST_F(SmallBlobCacheTest, AWrongHashIsRefusedAndNothingIsKept) {
  SmallBlobCache& cache = Cache();
  const Digest d = Digest::Of("the real bytes");
  absl::Status s = WriteBlob(cache, d, "other bytes, same size");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  const Digest same_size = Digest::Create(d.hash(), 9).value();
  s = WriteBlob(cache, same_size, "not these");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("hashes to"), std::string::npos) << s;
  EXPECT_EQ(base_.writes, 0);
  EXPECT_EQ(cache.CacheStats().blobs, 0);
  EXPECT_EQ(ReadBlob(cache, same_size).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SmallBlobCacheTest, MemoryIsBoundedLeastRecentlyUsedFirst) {
  SmallBlobCacheOptions options;
  options.max_total_bytes = 20;
  SmallBlobCache& cache = Cache(options);
  const Digest a = WriteBlob(cache, "aaaaaaaa").value();  // 8 bytes
  const Digest b = WriteBlob(cache, "bbbbbbbb").value();
  EXPECT_EQ(ReadBlob(cache, a).value(), "aaaaaaaa");      // a is now the newest
  const Digest c = WriteBlob(cache, "cccccccc").value();  // 24 > 20: b goes
  EXPECT_EQ(cache.CacheStats().blobs, 2);
  EXPECT_EQ(cache.CacheStats().bytes, 16);
  base_.reads = 0;
  EXPECT_EQ(ReadBlob(cache, a).value(), "aaaaaaaa");
  EXPECT_EQ(ReadBlob(cache, c).value(), "cccccccc");
  EXPECT_EQ(base_.reads, 0);
  EXPECT_EQ(ReadBlob(cache, b).value(), "bbbbbbbb");
  EXPECT_EQ(base_.reads, 1);
}

TEST_F(SmallBlobCacheTest, LargeBlobsPassThrough) {
  SmallBlobCacheOptions options;
  options.max_blob_bytes = 10;
  SmallBlobCache& cache = Cache(options);
  const Digest d = WriteBlob(cache, "more than ten bytes").value();
  ASSERT_TRUE(WriteBlob(cache, d, "more than ten bytes").ok());
  EXPECT_EQ(base_.writes, 2);
  EXPECT_EQ(ReadBlob(cache, d).value(), "more than ten bytes");
  EXPECT_EQ(ReadBlob(cache, d).value(), "more than ten bytes");
  EXPECT_EQ(base_.reads, 2);
  EXPECT_EQ(cache.CacheStats().blobs, 0);
}

TEST_F(SmallBlobCacheTest, DeleteDropsTheHeldCopy) {
  SmallBlobCache& cache = Cache();
  const Digest d = WriteBlob(cache, "gone soon").value();
  ASSERT_TRUE(cache.Delete(d).ok());
  EXPECT_EQ(ReadBlob(cache, d).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(cache.CacheStats().blobs, 0);
  EXPECT_EQ(cache.FindMissing({d}).value(), std::vector<Digest>{d});
}

}  // namespace
}  // namespace pbrx::cache
