// RocksDbBlobStore beyond the shared contract: persistence, crash recovery,
// chunk CRCs, LRU eviction with the size bound and the min-age protection.
#include "cache/rocksdb_blob_store.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::cache {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class RocksDbBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = testing_util::NewTempDir("db"); }

  void Open(RocksDbBlobStoreOptions options = {}) {
    store_.reset();
    storage_.reset();
    RocksDbStorageOptions so;
    so.path = path_;
    auto storage = RocksDbStorage::Open(so);
    ASSERT_TRUE(storage.ok()) << storage.status();
    storage_ = std::move(*storage);
    auto store = RocksDbBlobStore::Create(storage_.get(), &clock_, options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  Digest Put(const std::string& content) {
    auto d = WriteBlob(*store_, content);
    EXPECT_TRUE(d.ok()) << d.status();
    return *d;
  }

  std::string path_;
  common::FakeClock clock_;
  std::unique_ptr<RocksDbStorage> storage_;
  std::unique_ptr<RocksDbBlobStore> store_;
};

TEST_F(RocksDbBlobStoreTest, BlobsSurviveReopen) {
  Open();
  Digest a = Put("persistent a");
  Digest b = Put(std::string(3 << 20, 'b'));  // three chunks
  Open();
  EXPECT_EQ(*ReadBlob(*store_, a), "persistent a");
  EXPECT_EQ(*ReadBlob(*store_, b), std::string(3 << 20, 'b'));
  EXPECT_EQ(store_->Stats().blobs, 2);
  EXPECT_EQ(store_->Stats().bytes, 12 + (3 << 20));
}

TEST_F(RocksDbBlobStoreTest, InterruptedUploadIsCleanedOnReopen) {
  Open();
  std::string content(5 << 20, 'x');
  Digest d = Digest::Of(content);
  auto writer = store_->OpenWrite(d);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(
      (*writer)->Append(absl::string_view(content).substr(0, 3 << 20)).ok());
  EXPECT_EQ(store_->pending_uploads_for_testing(), 1);
  // Simulate a crash: the writer is leaked (never destroyed), the DB closed.
  writer->release();
  Open();
  EXPECT_EQ(store_->pending_uploads_for_testing(), 0);
  EXPECT_THAT(*store_->FindMissing({d}), ElementsAre(d));
  // The chunks are gone: the chunk column family has no keys left.
  std::unique_ptr<rocksdb::Iterator> it(storage_->db()->NewIterator(
      rocksdb::ReadOptions(), storage_->blob_chunks()));
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_EQ(store_->Stats().bytes, 0);
}

TEST_F(RocksDbBlobStoreTest, CrcMismatchIsDataLossEvenForRangedReads) {
  RocksDbBlobStoreOptions options;
  options.chunk_size = 1024;
  Open(options);
  std::string content(10 * 1024, 'q');
  Digest d = Put(content);
  ASSERT_TRUE(store_->CorruptChunkForTesting(d, 5, /*keep_crc=*/false).ok());
  // A read of chunk 2 only is fine: chunk 5 is not touched.
  auto ok_reader = store_->OpenRead(d, 2048, 100);
  ASSERT_TRUE(ok_reader.ok());
  std::string piece;
  EXPECT_TRUE(*(*ok_reader)->Next(&piece));
  EXPECT_EQ(piece, std::string(100, 'q'));
  auto reader = store_->OpenRead(d, 5 * 1024 + 10, 10);
  ASSERT_TRUE(reader.ok());
  auto more = (*reader)->Next(&piece);
  EXPECT_EQ(more.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(more.status().message()),
              HasSubstr("chunk 5 fails its CRC check"));
  EXPECT_THAT(*store_->FindMissing({d}), ElementsAre(d));
  EXPECT_EQ(store_->Stats().blobs, 0);
}

TEST_F(RocksDbBlobStoreTest, ACorruptReadDropsOnlyTheCopyItRead) {
  // A reader of a corrupt copy finds the damage after the blob was
  // deleted and uploaded again (a good copy, another generation): the read
  // fails with DATA_LOSS, the good copy stays.
  RocksDbBlobStoreOptions options;
  options.chunk_size = 1024;
  Open(options);
  const std::string content(4 * 1024, 'g');
  Digest d = Put(content);
  ASSERT_TRUE(store_->CorruptChunkForTesting(d, 3, /*keep_crc=*/false).ok());
  auto reader = store_->OpenRead(d, 0, 0);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(store_->Delete(d).ok());
  ASSERT_EQ(Put(content), d);
  std::string piece;
  absl::StatusOr<bool> more = true;
  while (more.ok() && *more) more = (*reader)->Next(&piece);
  EXPECT_EQ(more.status().code(), absl::StatusCode::kDataLoss);
  reader->reset();
  EXPECT_THAT(*store_->FindMissing({d}), IsEmpty());
  auto again = ReadBlob(*store_, d);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, content);
}

TEST_F(RocksDbBlobStoreTest, ShaMismatchWithValidCrcIsCaughtBeforeLastPiece) {
  RocksDbBlobStoreOptions options;
  options.chunk_size = 1024;
  Open(options);
  Digest d = Put(std::string(4000, 'z'));
  ASSERT_TRUE(store_->CorruptChunkForTesting(d, 1, /*keep_crc=*/true).ok());
  auto reader = store_->OpenRead(d, 0, 0);
  ASSERT_TRUE(reader.ok());
  std::string piece;
  int pieces = 0;
  absl::Status final_status;
  while (true) {
    auto more = (*reader)->Next(&piece);
    if (!more.ok()) {
      final_status = more.status();
      break;
    }
    if (!*more) break;
    ++pieces;
  }
  EXPECT_EQ(final_status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(pieces, 3);  // the 4th (last) piece is withheld
}

TEST_F(RocksDbBlobStoreTest, EvictsLeastRecentlyUsedFirst) {
  RocksDbBlobStoreOptions options;
  options.max_size_bytes = 3000;
  options.min_age = absl::Seconds(60);
  options.touch_granularity = absl::ZeroDuration();
  Open(options);
  Digest a = Put(std::string(1000, 'a'));
  clock_.Advance(absl::Seconds(10));
  Digest b = Put(std::string(1000, 'b'));
  clock_.Advance(absl::Seconds(10));
  Digest c = Put(std::string(1000, 'c'));
  clock_.Advance(absl::Seconds(100));
  // Touch a: now b is the least recently used.
  ASSERT_TRUE(ReadBlob(*store_, a).ok());
  Digest d = Put(std::string(1000, 'd'));
  EXPECT_THAT(*store_->FindMissing({a, b, c, d}), ElementsAre(b));
  EXPECT_EQ(store_->Stats().evictions, 1);
  EXPECT_EQ(store_->Stats().bytes, 3000);
  // FindMissing touched a, c and d. Later, only d is touched again: a 2500
  // byte blob would need d's space too, so it fails and evicts nothing.
  clock_.Advance(absl::Seconds(100));
  ASSERT_TRUE(ReadBlob(*store_, d).ok());
  const std::string big(2500, 'e');
  auto w = store_->OpenWrite(Digest::Of(big));
  ASSERT_TRUE(w.ok());  // space is claimed as the bytes arrive
  ASSERT_TRUE((*w)->Append(big).ok());
  absl::Status full = (*w)->Commit();
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(full.message()), HasSubstr("cache is full"));
  w->reset();
  EXPECT_THAT(*store_->FindMissing({a, c, d, Digest::Of(big)}),
              ElementsAre(Digest::Of(big)));
  EXPECT_EQ(store_->Stats().evictions, 1);
  // A 2000-byte blob fits by evicting a and c, never the protected d.
  clock_.Advance(absl::Seconds(100));
  ASSERT_TRUE(ReadBlob(*store_, d).ok());
  Digest e = Put(std::string(2000, 'e'));
  EXPECT_THAT(*store_->FindMissing({a, c, d, e}), ElementsAre(a, c));
  EXPECT_EQ(store_->Stats().evictions, 3);
  EXPECT_LE(store_->Stats().bytes, 3000);
}

TEST_F(RocksDbBlobStoreTest, BlobLargerThanBoundIsRejected) {
  RocksDbBlobStoreOptions options;
  options.max_size_bytes = 100;
  Open(options);
  auto w = store_->OpenWrite(Digest::Of(std::string(101, 'x')));
  EXPECT_EQ(w.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(w.status().message()),
              HasSubstr("larger than the cache's --max-size"));
}

TEST_F(RocksDbBlobStoreTest, UploadsClaimSpaceOnlyAsTheirBytesArrive) {
  // 1000-byte chunks on a 2500-byte cache holding one 1000-byte blob.
  RocksDbBlobStoreOptions options;
  options.max_size_bytes = 2500;
  options.chunk_size = 1000;
  options.min_age = absl::ZeroDuration();
  options.touch_granularity = absl::ZeroDuration();
  Open(options);
  Digest kept = Put(std::string(1000, 'k'));
  clock_.Advance(absl::Seconds(1));
  // Ten uploads claiming 2000 bytes each, sending nothing: nothing is
  // evicted, nothing reserved.
  std::vector<std::unique_ptr<BlobWriter>> idle;
  for (int i = 0; i < 10; ++i) {
    auto w = store_->OpenWrite(Digest::Of(std::string(2000, 'a' + i)));
    ASSERT_TRUE(w.ok()) << w.status();
    idle.push_back(std::move(*w));
  }
  EXPECT_THAT(*store_->FindMissing({kept}), IsEmpty());
  EXPECT_EQ(store_->Stats().evictions, 0);
  // One of them sends its first chunk: 1000 + 1000 fit beside kept.
  ASSERT_TRUE(idle[0]->Append(std::string(1000, 'a')).ok());
  EXPECT_THAT(*store_->FindMissing({kept}), IsEmpty());
  // Its second chunk needs kept's space: kept goes now, not before.
  ASSERT_TRUE(idle[0]->Append(std::string(1000, 'a')).ok());
  ASSERT_TRUE(idle[0]->Commit().ok());
  EXPECT_THAT(*store_->FindMissing({kept}), ElementsAre(kept));
  EXPECT_EQ(store_->Stats().evictions, 1);
  // Dropping the idle ones releases nothing they never had; a blob that
  // needs the committed one's space still evicts it (min_age 0).
  idle.clear();
  clock_.Advance(absl::Seconds(1));
  Digest next = Put(std::string(1500, 'n'));
  EXPECT_THAT(*store_->FindMissing({next}), IsEmpty());
  EXPECT_LE(store_->Stats().bytes, 2500);
}

TEST_F(RocksDbBlobStoreTest, LruOrderSurvivesReopen) {
  RocksDbBlobStoreOptions options;
  options.max_size_bytes = 2000;
  options.min_age = absl::ZeroDuration();
  options.touch_granularity = absl::ZeroDuration();
  Open(options);
  Digest a = Put(std::string(1000, 'a'));
  clock_.Advance(absl::Seconds(1));
  Digest b = Put(std::string(1000, 'b'));
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(store_->FindMissing({a}).ok());  // touches a
  clock_.Advance(absl::Seconds(1));
  Open(options);
  Digest c = Put(std::string(1000, 'c'));
  EXPECT_THAT(*store_->FindMissing({a, b, c}), ElementsAre(b));
}

TEST_F(RocksDbBlobStoreTest, EvictionDuringAReadKeepsThatReadWhole) {
  // A reader sees the blob as it was when it was opened: evicting it
  // mid-stream neither truncates nor corrupts that read (nor drops anything
  // as "corrupt"); later reads find it gone.
  RocksDbBlobStoreOptions options;
  options.max_size_bytes = 4000;
  options.min_age = absl::ZeroDuration();
  options.touch_granularity = absl::ZeroDuration();
  options.chunk_size = 100;
  Open(options);
  std::string content;
  for (int i = 0; i < 3000; ++i)
    content.push_back(static_cast<char>('a' + i % 26));
  Digest a = Put(content);
  auto reader = store_->OpenRead(a, 0, 0);
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::string got, piece;
  auto more = (*reader)->Next(&piece);
  ASSERT_TRUE(more.ok() && *more) << more.status();
  got += piece;
  ASSERT_LT(got.size(), content.size());  // mid-way: more chunks to come
  clock_.Advance(absl::Seconds(1));
  Digest b = Put(std::string(3000, 'b'));  // fits only by evicting a
  EXPECT_EQ(store_->Stats().evictions, 1);
  EXPECT_THAT(*store_->FindMissing({a, b}), ElementsAre(a));
  while (true) {
    more = (*reader)->Next(&piece);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    got += piece;
  }
  EXPECT_EQ(got, content);
  EXPECT_EQ(store_->OpenRead(a, 0, 0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(*ReadBlob(*store_, b), std::string(3000, 'b'));
}

}  // namespace
}  // namespace pbrx::cache
