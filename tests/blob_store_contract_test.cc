// The BlobStore contract, run against every implementation.
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cache/blob_store.h"
#include "cache/in_memory_blob_store.h"
#include "cache/rocksdb_blob_store.h"
#include "cache/rocksdb_storage.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::cache {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// One implementation under test plus its test-only corruption hook.
struct StoreUnderTest {
  virtual ~StoreUnderTest() = default;
  virtual BlobStore& store() = 0;
  virtual absl::Status Corrupt(const Digest& digest) = 0;
};

struct InMemoryUnderTest : StoreUnderTest {
  InMemoryBlobStore impl;
  BlobStore& store() override { return impl; }
  absl::Status Corrupt(const Digest& d) override {
    return impl.CorruptForTesting(d);
  }
};

struct RocksDbUnderTest : StoreUnderTest {
  common::FakeClock clock;
  std::unique_ptr<RocksDbStorage> storage;
  std::unique_ptr<RocksDbBlobStore> impl;
  explicit RocksDbUnderTest(int64_t chunk_size) {
    RocksDbStorageOptions so;
    so.path = testing_util::NewTempDir("rocksdb");
    storage = std::move(RocksDbStorage::Open(so)).value();
    RocksDbBlobStoreOptions bo;
    bo.chunk_size = chunk_size;
    impl =
        std::move(RocksDbBlobStore::Create(storage.get(), &clock, bo)).value();
  }
  BlobStore& store() override { return *impl; }
  absl::Status Corrupt(const Digest& d) override {
    // Keep the chunk CRC valid: only the whole-blob SHA-256 can notice.
    return impl->CorruptChunkForTesting(d, 0, /*keep_crc=*/true);
  }
};

using Factory = std::function<std::unique_ptr<StoreUnderTest>()>;

class BlobStoreContractTest
    : public ::testing::TestWithParam<std::pair<std::string, Factory>> {
 protected:
  void SetUp() override { sut_ = GetParam().second(); }
  BlobStore& store() { return sut_->store(); }
  std::unique_ptr<StoreUnderTest> sut_;
};

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  uint32_t x = 2166136261u ^ static_cast<uint32_t>(seed);
  for (size_t i = 0; i < n; ++i) {
    x = x * 16777619u + 12345u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

TEST_P(BlobStoreContractTest, EmptyBlobIsAlwaysPresent) {
  auto missing = store().FindMissing({Digest::Empty()});
  ASSERT_TRUE(missing.ok());
  EXPECT_THAT(*missing, IsEmpty());
  auto content = ReadBlob(store(), Digest::Empty());
  ASSERT_TRUE(content.ok()) << content.status();
  EXPECT_EQ(*content, "");
  EXPECT_TRUE(WriteBlob(store(), Digest::Empty(), "").ok());
}

TEST_P(BlobStoreContractTest, WriteThenReadBack) {
  std::string content = "hello, cache";
  auto digest = WriteBlob(store(), content);
  ASSERT_TRUE(digest.ok()) << digest.status();
  auto back = ReadBlob(store(), *digest);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, content);
  EXPECT_EQ(store().Stats().blobs, 1);
  EXPECT_EQ(store().Stats().bytes, static_cast<int64_t>(content.size()));
}

TEST_P(BlobStoreContractTest, MultiChunkStreamingWriteAndRangedReads) {
  // Crosses many 4 KiB chunks (RocksDB param) with odd-sized appends.
  std::string content = Pattern(100000, 1);
  Digest digest = Digest::Of(content);
  auto writer = store().OpenWrite(digest);
  ASSERT_TRUE(writer.ok());
  for (size_t pos = 0; pos < content.size(); pos += 777) {
    ASSERT_TRUE(
        (*writer)->Append(absl::string_view(content).substr(pos, 777)).ok());
  }
  EXPECT_EQ((*writer)->bytes_written(), 100000);
  ASSERT_TRUE((*writer)->Commit().ok());
  for (auto [offset, limit] :
       std::vector<std::pair<int64_t, int64_t>>{{0, 0},
                                                {1, 0},
                                                {4095, 2},
                                                {4096, 4096},
                                                {50000, 0},
                                                {99999, 0},
                                                {100000, 0},
                                                {12345, 60000},
                                                {0, 200000}}) {
    auto reader = store().OpenRead(digest, offset, limit);
    ASSERT_TRUE(reader.ok()) << reader.status();
    std::string got, piece;
    while (true) {
      auto more = (*reader)->Next(&piece);
      ASSERT_TRUE(more.ok()) << more.status();
      if (!*more) break;
      got += piece;
    }
    size_t len = limit == 0 ? std::string::npos : static_cast<size_t>(limit);
    EXPECT_EQ(got, content.substr(offset, len)) << offset << "+" << limit;
  }
}

TEST_P(BlobStoreContractTest, ReadPastEndIsOutOfRange) {
  auto digest = WriteBlob(store(), "abc");
  ASSERT_TRUE(digest.ok());
  auto reader = store().OpenRead(*digest, 4, 0);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store().OpenRead(*digest, -1, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(BlobStoreContractTest, MissingBlobIsNotFound) {
  Digest absent = Digest::Of("never written");
  auto reader = store().OpenRead(absent, 0, 0);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(reader.status().message()),
              HasSubstr(absent.ToString()));
}

TEST_P(BlobStoreContractTest, FindMissingReportsAbsentOnceInOrder) {
  auto a = WriteBlob(store(), "a");
  ASSERT_TRUE(a.ok());
  Digest b = Digest::Of("b"), c = Digest::Of("c");
  auto missing = store().FindMissing({c, *a, b, c, Digest::Empty()});
  ASSERT_TRUE(missing.ok());
  EXPECT_THAT(*missing, ElementsAre(c, b));
}

TEST_P(BlobStoreContractTest, WrongHashIsRejectedAndInvisible) {
  Digest claimed = Digest::Of("the real content");
  auto writer = store().OpenWrite(claimed);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("fake content!!!!").ok());  // same length
  absl::Status s = (*writer)->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("not to the digest's " + claimed.hash()));
  writer->reset();
  EXPECT_THAT(*store().FindMissing({claimed}), ElementsAre(claimed));
  EXPECT_EQ(store().Stats().blobs, 0);
}

TEST_P(BlobStoreContractTest, TooManyOrTooFewBytesAreRejected) {
  Digest d = Digest::Of("12345");
  auto w1 = store().OpenWrite(d);
  ASSERT_TRUE(w1.ok());
  absl::Status s = (*w1)->Append("123456");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("more than 5 bytes"));
  auto w2 = store().OpenWrite(d);
  ASSERT_TRUE(w2.ok());
  ASSERT_TRUE((*w2)->Append("123").ok());
  s = (*w2)->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("received 3 of 5 bytes"));
  w1->reset();
  w2->reset();
  EXPECT_THAT(*store().FindMissing({d}), ElementsAre(d));
}

TEST_P(BlobStoreContractTest, UncommittedWriteIsInvisibleAndDiscarded) {
  std::string content = Pattern(20000, 2);
  Digest d = Digest::Of(content);
  {
    auto writer = store().OpenWrite(d);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(content).ok());
    // Complete bytes but no Commit(): must stay invisible.
    EXPECT_THAT(*store().FindMissing({d}), ElementsAre(d));
  }
  EXPECT_THAT(*store().FindMissing({d}), ElementsAre(d));
  EXPECT_EQ(store().Stats().bytes, 0);
}

TEST_P(BlobStoreContractTest, ConcurrentWritersOfSameBlob) {
  std::string content = Pattern(50000, 3);
  Digest d = Digest::Of(content);
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = WriteBlob(store(), d, content); });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(*ReadBlob(store(), d), content);
  EXPECT_EQ(store().Stats().blobs, 1);
  EXPECT_EQ(store().Stats().bytes, 50000);
}

TEST_P(BlobStoreContractTest, CorruptBlobReadIsDataLossAndDropped) {
  std::string content = Pattern(10000, 4);
  auto d = WriteBlob(store(), content);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(sut_->Corrupt(*d).ok());
  auto read = ReadBlob(store(), *d);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(read.status().message()),
              HasSubstr("stored blob " + d->ToString() + " is corrupt"));
  EXPECT_THAT(*store().FindMissing({*d}), ElementsAre(*d));
  // It can be uploaded again afterwards.
  ASSERT_TRUE(WriteBlob(store(), *d, content).ok());
  EXPECT_EQ(*ReadBlob(store(), *d), content);
}

TEST_P(BlobStoreContractTest, WriteBlobsStoresEachVerified) {
  const std::string a = Pattern(100, 1), b = Pattern(70000, 2);
  const BlobBytes blobs[] = {{Digest::Of(a), a}, {Digest::Of(b), b}};
  ASSERT_TRUE(store().WriteBlobs(blobs).ok());
  EXPECT_EQ(*ReadBlob(store(), Digest::Of(a)), a);
  EXPECT_EQ(*ReadBlob(store(), Digest::Of(b)), b);
  const Digest lie = Digest::Of(Pattern(100, 3));
  const BlobBytes bad[] = {{lie, a}};
  EXPECT_EQ(store().WriteBlobs(bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(*store().FindMissing({lie}), ElementsAre(lie));
}

TEST_P(BlobStoreContractTest, DeleteRemoves) {
  auto d = WriteBlob(store(), "to delete");
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(store().Delete(*d).ok());
  EXPECT_THAT(*store().FindMissing({*d}), ElementsAre(*d));
  EXPECT_TRUE(store().Delete(*d).ok());
  EXPECT_EQ(store().Stats().blobs, 0);
}

INSTANTIATE_TEST_SUITE_P(
    AllStores, BlobStoreContractTest,
    ::testing::Values(
        std::make_pair(std::string("InMemory"), Factory([] {
                         return std::make_unique<InMemoryUnderTest>();
                       })),
        std::make_pair(std::string("RocksDbSmallChunks"), Factory([] {
                         return std::make_unique<RocksDbUnderTest>(4096);
                       })),
        std::make_pair(std::string("RocksDbDefaultChunks"), Factory([] {
                         return std::make_unique<RocksDbUnderTest>(1 << 20);
                       }))),
    [](const auto& info) { return info.param.first; });

}  // namespace
}  // namespace pbrx::cache
