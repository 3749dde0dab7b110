#include "common/grpc_channel.h"

#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

TEST(ChannelTargetTest, Forms) {
  EXPECT_EQ(*ChannelTarget("grpc://127.0.0.1:9092"), "127.0.0.1:9092");
  EXPECT_EQ(*ChannelTarget("localhost:1/"), "localhost:1");
  EXPECT_EQ(*ChannelTarget("grpc://[::1]:9092"), "[::1]:9092");
  EXPECT_EQ(ChannelTarget("http://h:1").status().message(),
            "http://h:1: expected grpc://HOST:PORT");
  EXPECT_EQ(ChannelTarget("grpc://nohost").status().message(),
            "grpc://nohost: expected grpc://HOST:PORT");
  EXPECT_EQ(ChannelTarget("grpc://h:1/x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChannelTarget("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MakeChannelTest, RefusesWhatIsNotAChannelUrl) {
  EXPECT_EQ(MakeChannel("https://h:1").status().message(),
            "https://h:1: expected grpc://HOST:PORT");
  absl::StatusOr<std::shared_ptr<grpc::Channel>> c =
      MakeChannel("grpc://127.0.0.1:1");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_NE(*c, nullptr);
}

}  // namespace
}  // namespace pbrx::common
