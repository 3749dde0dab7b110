#include "common/credentials.h"

#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

TEST(CredentialsTest, SplitsUserinfoOffTheUrl) {
  absl::StatusOr<SplitUrl> s = SplitUrlCredentials(
      "--index-url",
      "https://ci-bot:p%40ss%3Aw0rd@Pypi.Example.com:8443/simple");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->url, "https://Pypi.Example.com:8443/simple");
  ASSERT_TRUE(s->credential.has_value());
  EXPECT_EQ(s->credential->host, "pypi.example.com");
  EXPECT_EQ(s->credential->username, "ci-bot");
  EXPECT_EQ(s->credential->password, "p@ss:w0rd");

  s = SplitUrlCredentials("--index-url", "https://token@idx.example/simple/");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->url, "https://idx.example/simple/");
  EXPECT_EQ(s->credential->username, "token");
  EXPECT_EQ(s->credential->password, "");

  s = SplitUrlCredentials("--index-url", "https://idx.example/a@b/simple");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->url, "https://idx.example/a@b/simple");
  EXPECT_FALSE(s->credential.has_value());
}

TEST(CredentialsTest, WithoutUserinfoKeepsAnAtAfterTheHost) {
  EXPECT_EQ(WithoutUserinfo("https://u:p@h:8/x@y"), "https://h:8/x@y");
  EXPECT_EQ(WithoutUserinfo("https://h/x@y"), "https://h/x@y");
  EXPECT_EQ(WithoutUserinfo("https://t@h"), "https://h");
  EXPECT_EQ(WithoutUserinfo("not a url"), "not a url");
}

TEST(CredentialsTest, RefusalsNeverEchoThePassword) {
  for (const char* url :
       {"https://u:sec%ZZret@h/simple", "https://u:sec%20ret@h/simple",
        "https://u:sec%22ret@h/simple", "https://:secret@h/simple",
        "https://u:secret@/simple"}) {
    absl::StatusOr<SplitUrl> s = SplitUrlCredentials("index_url", url);
    ASSERT_FALSE(s.ok()) << url;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.status().message().find("sec"), std::string::npos)
        << s.status();
    EXPECT_EQ(s.status().message().rfind("index_url: ", 0), 0u) << s.status();
  }
  absl::StatusOr<SplitUrl> s =
      SplitUrlCredentials("--index-url", "https://u:a%20b@h/simple");
  EXPECT_EQ(s.status().message(),
            "--index-url: the password for h must be at most 1024 printable "
            "characters without space, '\"', '\\' or '#'");
}

TEST(CredentialsTest, MatchesRendersRedactsAndNames) {
  std::vector<HostCredential> creds = {{"idx.example", "bot", "s3cr/t"},
                                       {"other.example", "x", "y2"}};
  std::vector<HostCredential> m =
      CredentialsForUrl("https://IDX.example:443/files/a.whl", creds);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], creds[0]);
  EXPECT_TRUE(
      CredentialsForUrl("https://evil.example/idx.example", creds).empty());
  EXPECT_EQ(RenderNetrc(creds),
            "machine idx.example login bot password s3cr/t\n"
            "machine other.example login x password y2\n");
  EXPECT_EQ(
      RedactSecrets("GET https://bot:s3cr%2Ft@idx.example and s3cr/t", creds),
      "GET https://bot:****@idx.example and ****");
  const std::string id = CredentialsId(creds);
  EXPECT_EQ(id.size(), 64u);
  EXPECT_EQ(id, CredentialsId({creds[1], creds[0]}));
  std::vector<HostCredential> other_password = creds;
  other_password[0].password = "changed";
  EXPECT_EQ(id, CredentialsId(other_password));  // identities, not secrets
  std::vector<HostCredential> other_user = creds;
  other_user[0].username = "bot2";
  EXPECT_NE(id, CredentialsId(other_user));
  EXPECT_EQ(CredentialsId({}), "");
}

// A password across the 1 MiB pieces the file is read in, at every offset
// around the seam, and many in a big file: all redacted, nothing else
// changed.
TEST(CredentialsTest, RedactsFilesAcrossPieces) {
  const std::vector<HostCredential> creds = {{"h", "u", "Pa55/w0rd-xyz"}};
  const std::string dir = getenv("TEST_TMPDIR");
  for (size_t offset : {(1u << 20) - 13, (1u << 20) - 7, (1u << 20) - 1,
                        (1u << 20) + 0u, (2u << 20) - 3}) {
    std::string text(3 << 20, 'a');
    text.replace(offset, 13, "Pa55/w0rd-xyz");
    text.replace(100, 17, "Pa55%2Fw0rd-xyz!!");
    const std::string path = dir + "/log";
    {
      FILE* f = fopen(path.c_str(), "wb");
      ASSERT_NE(f, nullptr);
      fwrite(text.data(), 1, text.size(), f);
      fclose(f);
    }
    ASSERT_TRUE(RedactSecretsInFile(path, creds).ok());
    std::string got;
    {
      FILE* f = fopen(path.c_str(), "rb");
      ASSERT_NE(f, nullptr);
      char buf[65536];
      size_t n;
      while ((n = fread(buf, 1, sizeof(buf), f)) > 0) got.append(buf, n);
      fclose(f);
    }
    std::string want = text;
    want.replace(offset, 13, "****");
    want.replace(100, 15, "****");
    EXPECT_EQ(got.size(), want.size()) << offset;
    EXPECT_TRUE(got == want) << "offset " << offset;
    EXPECT_EQ(got.find("w0rd"), std::string::npos) << offset;
  }
}

}  // namespace
}  // namespace pbrx::common
