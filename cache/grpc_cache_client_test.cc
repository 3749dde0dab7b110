// The gRPC cache clients against a real CacheServer (RocksDB on disk) over
// loopback.
#include "cache/grpc_cache_client.h"

#include "absl/strings/str_cat.h"
#include "cache/cache_server.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::cache {
namespace {

namespace re = build::bazel::remote::execution::v2;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  uint32_t x = 2166136261u ^ static_cast<uint32_t>(seed);
  for (size_t i = 0; i < n; ++i) {
    x = x * 16777619u + 12345u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

std::string ReadAll(BlobReader& r) {
  std::string all, piece;
  while (true) {
    auto more = r.Next(&piece);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    all += piece;
  }
  return all;
}

class GrpcCacheClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CacheServerOptions o;
    o.data_dir = testing_util::NewTempDir("grpc-client");
    server_ = std::move(CacheServer::Create(o, &clock_)).value();
    ASSERT_TRUE(server_->Start().ok());
    auto channel = grpc::CreateChannel(server_->address(),
                                       grpc::InsecureChannelCredentials());
    GrpcCacheOptions co;
    co.chunk_size = 64 * 1024;  // many messages per blob
    cas_ = std::make_unique<GrpcBlobStore>(channel, co);
    ac_ = std::make_unique<GrpcActionCache>(channel, co);
  }
  void TearDown() override { server_->Shutdown(absl::Seconds(1)); }

  common::RealClock clock_;
  std::unique_ptr<CacheServer> server_;
  std::unique_ptr<GrpcBlobStore> cas_;
  std::unique_ptr<GrpcActionCache> ac_;
};

TEST_F(GrpcCacheClientTest, StreamsALargeBlobInAndOutWithRanges) {
  std::string content = Pattern(3 * 1024 * 1024 + 17, 1);
  Digest d = Digest::Of(content);
  EXPECT_THAT(*cas_->FindMissing({d}), ElementsAre(d));
  auto w = cas_->OpenWrite(d);
  ASSERT_TRUE(w.ok());
  for (size_t i = 0; i < content.size(); i += 100000)
    ASSERT_TRUE((*w)->Append(content.substr(i, 100000)).ok());
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_THAT(*cas_->FindMissing({d}), IsEmpty());
  // Visible to the server's own store, byte for byte.
  EXPECT_EQ(*ReadBlob(server_->blob_store(), d), content);
  auto r = cas_->OpenRead(d, 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAll(**r), content);
  auto part = cas_->OpenRead(d, 1000000, 123457);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(ReadAll(**part), content.substr(1000000, 123457));
  EXPECT_EQ(cas_->OpenRead(d, content.size() + 1, 0).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(GrpcCacheClientTest, SmallBlobsWholeAndInRanges) {
  // Whole small blobs go by batch calls, ranges of them by ByteStream: the
  // same bytes either way.
  const std::string content = Pattern(1000, 7);
  Digest d = Digest::Of(content);
  ASSERT_TRUE(WriteBlob(*cas_, d, content).ok());
  EXPECT_EQ(*ReadBlob(server_->blob_store(), d), content);
  EXPECT_EQ(*ReadBlob(*cas_, d), content);
  auto part = cas_->OpenRead(d, 10, 20);
  ASSERT_TRUE(part.ok()) << part.status();
  EXPECT_EQ(ReadAll(**part), content.substr(10, 20));
  // Written again: fine, the same bytes.
  ASSERT_TRUE(WriteBlob(*cas_, d, content).ok());
  EXPECT_EQ(*ReadBlob(*cas_, d), content);
  absl::Status s = cas_->OpenRead(Digest::Of("small absent"), 0, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(absl::StrCat("BatchReadBlobs of ",
                                     Digest::Of("small absent").ToString())));
}

TEST_F(GrpcCacheClientTest, WriteBlobsBatchesSmallBlobsAndStreamsLargeOnes) {
  // 40 blobs of 60 KiB (over one 2 MiB batch), one of 100 KiB, the empty
  // blob: all stored, byte for byte.
  std::vector<std::string> contents;
  for (int i = 0; i < 40; ++i) contents.push_back(Pattern(60 * 1024, i));
  contents.push_back(Pattern(100 * 1024, 99));
  contents.push_back("");
  std::vector<BlobBytes> blobs;
  for (const std::string& c : contents) blobs.push_back({Digest::Of(c), c});
  ASSERT_TRUE(cas_->WriteBlobs(blobs).ok());
  for (const std::string& c : contents)
    EXPECT_EQ(*ReadBlob(server_->blob_store(), Digest::Of(c)), c);
  // A blob whose bytes are not its digest's is refused by the server,
  // named; the good one beside it is stored.
  const std::string good = Pattern(500, 3);
  const Digest lie = Digest::Of(Pattern(500, 4));
  const BlobBytes mixed[] = {{Digest::Of(good), good}, {lie, good}};
  absl::Status s = cas_->WriteBlobs(mixed);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(absl::StrCat("BatchUpdateBlobs of ", lie.ToString())));
  EXPECT_EQ(*ReadBlob(server_->blob_store(), Digest::Of(good)), good);
  EXPECT_THAT(*server_->blob_store().FindMissing({lie}), ElementsAre(lie));
}

TEST_F(GrpcCacheClientTest, MissingBlobsAndTheEmptyBlob) {
  Digest absent = Digest::Of("absent");
  EXPECT_EQ(cas_->OpenRead(absent, 0, 0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(*cas_->FindMissing({absent, Digest::Empty(), absent}),
              ElementsAre(absent));
  auto r = cas_->OpenRead(Digest::Empty(), 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAll(**r), "");
}

TEST_F(GrpcCacheClientTest, ManyDigestsAreAskedOnceAndAnsweredInOrder) {
  // 30,000 digests, each twice, over several requests: the missing ones
  // once each, in input order.
  std::vector<Digest> in;
  std::vector<Digest> want;
  for (int i = 0; i < 30000; ++i) {
    std::string bytes = "blob " + std::to_string(i);
    Digest d = Digest::Of(bytes);
    if (i % 3 == 0) {
      ASSERT_TRUE(WriteBlob(server_->blob_store(), d, bytes).ok());
    } else {
      want.push_back(d);
    }
    in.push_back(d);
  }
  std::vector<Digest> twice = in;
  twice.insert(twice.end(), in.begin(), in.end());
  absl::StatusOr<std::vector<Digest>> missing = cas_->FindMissing(twice);
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(*missing, want);
}

TEST_F(GrpcCacheClientTest, BadWritesAreRejectedAndInvisible) {
  Digest d = Digest::Of("12345");
  auto w1 = cas_->OpenWrite(d);
  absl::Status s = (*w1)->Append("123456");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("more than 5 bytes"));
  auto w2 = cas_->OpenWrite(d);
  ASSERT_TRUE((*w2)->Append("123").ok());
  s = (*w2)->Commit();
  EXPECT_THAT(std::string(s.message()), HasSubstr("received 3 of 5 bytes"));
  auto w3 = cas_->OpenWrite(d);
  ASSERT_TRUE((*w3)->Append("54321").ok());
  s = (*w3)->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("does not match the hash"));
  {
    // Abandoned half-way: the server keeps nothing.
    auto w4 = cas_->OpenWrite(d);
    ASSERT_TRUE((*w4)->Append("12").ok());
  }
  w1->reset();
  w2->reset();
  w3->reset();
  EXPECT_THAT(*cas_->FindMissing({d}), ElementsAre(d));
}

TEST_F(GrpcCacheClientTest, RewritingAnExistingBlobIsOk) {
  std::string content = Pattern(500000, 3);
  Digest d = Digest::Of(content);
  ASSERT_TRUE(WriteBlob(*cas_, d, content).ok());
  ASSERT_TRUE(WriteBlob(*cas_, d, content).ok());
  EXPECT_EQ(*ReadBlob(*cas_, d), content);
  EXPECT_EQ(cas_->Delete(d).code(), absl::StatusCode::kUnimplemented);
}

TEST_F(GrpcCacheClientTest, ActionCacheRoundTripAndCompleteness) {
  Digest action = Digest::Of("action");
  EXPECT_EQ(ac_->Get(action).status().code(), absl::StatusCode::kNotFound);
  auto out = WriteBlob(*cas_, "output bytes");
  ASSERT_TRUE(out.ok());
  re::ActionResult r;
  auto* f = r.add_output_files();
  f->set_path("out.txt");
  *f->mutable_digest() = out->ToProto();
  r.set_exit_code(0);
  ASSERT_TRUE(ac_->Update(action, r).ok());
  auto got = ac_->Get(action);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->output_files(0).digest().hash(), out->hash());
  // The server refuses a result naming blobs it does not hold.
  re::ActionResult bad = r;
  *bad.mutable_output_files(0)->mutable_digest() =
      Digest::Of("never uploaded").ToProto();
  absl::Status s = ac_->Update(Digest::Of("other action"), bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("UpdateActionResult"));
  EXPECT_EQ(ac_->Get(Digest::Of("other action")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(GrpcCacheClientDownTest, UnreachableServerIsUnavailable) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  GrpcCacheOptions co;
  co.call_timeout = absl::Seconds(2);
  GrpcBlobStore cas(channel, co);
  auto m = cas.FindMissing({Digest::Of("x")});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("FindMissingBlobs"));
}

}  // namespace
}  // namespace pbrx::cache
