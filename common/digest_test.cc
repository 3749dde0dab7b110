#include "common/digest.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

using ::testing::HasSubstr;

constexpr char kHelloHash[] =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

TEST(DigestTest, OfComputesSha256AndSize) {
  Digest d = Digest::Of("hello");
  EXPECT_EQ(d.hash(), kHelloHash);
  EXPECT_EQ(d.size(), 5);
  EXPECT_EQ(d.ToString(), std::string(kHelloHash) + "/5");
}

TEST(DigestTest, EmptyDigestIsWellKnown) {
  EXPECT_EQ(Digest::Empty().hash(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Digest::Empty().size(), 0);
}

TEST(DigestTest, ParseRoundTrips) {
  auto d = Digest::Parse(std::string(kHelloHash) + "/5");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, Digest::Of("hello"));
}

struct BadDigestCase {
  std::string text;
  std::string message;
};

class DigestParseErrorTest : public ::testing::TestWithParam<BadDigestCase> {};

TEST_P(DigestParseErrorTest, RejectsWithPreciseMessage) {
  auto d = Digest::Parse(GetParam().text);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(d.status().message()), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DigestParseErrorTest,
    ::testing::Values(
        BadDigestCase{"nohash", "must have the form HASH/SIZE"},
        BadDigestCase{std::string(kHelloHash) + "/",
                      "non-negative decimal integer"},
        BadDigestCase{std::string(kHelloHash) + "/-1",
                      "non-negative decimal integer"},
        BadDigestCase{std::string(kHelloHash) + "/+5",
                      "non-negative decimal integer"},
        BadDigestCase{std::string(kHelloHash) + "/5x",
                      "non-negative decimal integer"},
        BadDigestCase{std::string(kHelloHash) + "/99999999999999999999",
                      "non-negative decimal integer"},
        BadDigestCase{"abc/5", "64 lowercase hex characters (SHA-256), got 3"},
        BadDigestCase{std::string(kHelloHash).substr(0, 63) + "G/5",
                      "found 'G' at position 63"},
        BadDigestCase{"2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362"
                      "938B9824/5",
                      "found 'C' at position 1"}));

TEST(DigestTest, CreateRejectsNegativeSize) {
  auto d = Digest::Create(kHelloHash, -3);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "digest size must be >= 0, got -3");
}

TEST(DigestTest, ProtoRoundTrip) {
  Digest d = Digest::Of("hello");
  auto back = Digest::FromProto(d.ToProto());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, d);
  build::bazel::remote::execution::v2::Digest bad;
  bad.set_hash("zz");
  EXPECT_EQ(Digest::FromProto(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DigestTest, KeyRoundTripAndOrdering) {
  Digest a = Digest::Of("a");
  std::string key = a.ToKey();
  EXPECT_EQ(key.size(), 40u);
  auto back = Digest::FromKey(key);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, a);
  EXPECT_EQ(Digest::FromKey("short").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Same hash, different sizes sort by size.
  auto small = Digest::Create(kHelloHash, 1);
  auto big = Digest::Create(kHelloHash, 300);
  EXPECT_LT(small->ToKey(), big->ToKey());
}

}  // namespace
}  // namespace pbrx::common
