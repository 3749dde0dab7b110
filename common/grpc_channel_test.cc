#include "common/grpc_channel.h"

#include <fstream>

#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

constexpr char kExpected[] = ": expected grpc://HOST:PORT or grpcs://HOST:PORT";

TEST(ChannelTargetTest, Forms) {
  EXPECT_EQ(*ChannelTarget("grpc://127.0.0.1:9092"), "127.0.0.1:9092");
  EXPECT_EQ(*ChannelTarget("grpcs://cache.example.org:443"),
            "cache.example.org:443");
  EXPECT_EQ(*ChannelTarget("localhost:1/"), "localhost:1");
  EXPECT_EQ(*ChannelTarget("grpc://[::1]:9092"), "[::1]:9092");
  EXPECT_EQ(ChannelTarget("http://h:1").status().message(),
            std::string("http://h:1") + kExpected);
  EXPECT_EQ(ChannelTarget("grpc://nohost").status().message(),
            std::string("grpc://nohost") + kExpected);
  EXPECT_EQ(ChannelTarget("grpc://h:1/x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChannelTarget("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsTlsUrl("grpcs://h:1"));
  EXPECT_FALSE(IsTlsUrl("grpc://h:1"));
}

TEST(MakeChannelTest, RefusesWhatCannotBecomeAChannel) {
  EXPECT_EQ(MakeChannel("https://h:1").status().message(),
            std::string("https://h:1") + kExpected);
  ChannelOptions o;
  o.tls.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  // TLS files with a plaintext URL would silently not be used.
  EXPECT_EQ(MakeChannel("grpc://h:1", o).status().message(),
            "grpc://h:1: --tls-ca, --tls-cert and --tls-key need a grpcs:// "
            "URL");
  o.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(MakeChannel("grpcs://h:1", o).status().message(),
            "--tls-ca /nonexistent/ca.pem: cannot be read");
  ChannelOptions t;
  t.token = "two words";
  EXPECT_EQ(MakeChannel("grpc://h:1", t).status().message(),
            "the token holds characters a header cannot carry");
  absl::StatusOr<std::shared_ptr<grpc::Channel>> c =
      MakeChannel("grpc://127.0.0.1:1");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_NE(*c, nullptr);
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& file) {
  std::string token = "unset";
  absl::Status s = LoadTokenFile(file, &token);
  if (!s.ok()) return s;
  return token;
}

TEST(LoadTokenFileTest, FirstLineTrimmedAndChecked) {
  std::string dir = ::testing::TempDir();
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  EXPECT_EQ(*ReadTokenFile(write("t1", "  s3cr3t \nrest\n")), "s3cr3t");
  std::string empty = write("t2", "\n");
  EXPECT_EQ(ReadTokenFile(empty).status().message(),
            "--token-file " + empty +
                ": the first line must be the token (1 to 4096 visible ASCII "
                "characters)");
  EXPECT_EQ(ReadTokenFile(dir + "/none").status().message(),
            "--token-file " + dir + "/none: cannot be read");
  // No file: no token, nothing changed.
  EXPECT_EQ(*ReadTokenFile(""), "unset");
}

}  // namespace
}  // namespace pbrx::common
