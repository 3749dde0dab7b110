#include "common/registry/credentials.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <vector>

#include "gtest/gtest.h"

namespace pbrx::common::registry {
namespace {

std::string Write(const std::string& name, const std::string& text) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CredentialsTest, FilesInTheOrderContainerToolsReadThem) {
  EXPECT_EQ(
      AuthFilePaths({{"REGISTRY_AUTH_FILE", "/a.json"},
                     {"XDG_RUNTIME_DIR", "/run/user/1"},
                     {"HOME", "/home/u"}}),
      (std::vector<std::string>{"/a.json", "/run/user/1/containers/auth.json",
                                "/home/u/.docker/config.json"}));
  EXPECT_EQ(AuthFilePaths({{"DOCKER_CONFIG", "/d"}, {"HOME", "/home/u"}}),
            (std::vector<std::string>{"/d/config.json"}));
}

TEST(CredentialsTest, FirstFileWithTheRegistryWins) {
  // "alice:s3cret" and "bob:pw" in base64.
  std::string first = Write(
      "first.json",
      R"({"auths":{"https://reg.example:5000/v2/":{"auth":"YWxpY2U6czNjcmV0"}}})");
  std::string second = Write(
      "second.json",
      R"({"auths":{"reg.example:5000":{"auth":"Ym9iOnB3"},)"
      R"("https://index.docker.io/v1/":{"username":"hub","password":"x"}}})");
  auto c = FindRegistryCredentials({"/nonexistent", first, second},
                                   "reg.example:5000");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->username, "alice");
  EXPECT_EQ((*c)->password, "s3cret");
  c = FindRegistryCredentials({first, second}, "docker.io");
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->username, "hub");
  c = FindRegistryCredentials({first, second}, "other.example");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_value());
}

// Answers from a table and records what it was asked.
class FakeHelpers : public CredentialHelper {
 public:
  absl::StatusOr<std::optional<RegistryCredentials>> Get(
      const std::string& name, const std::string& server) override {
    asked.push_back(name + " " + server);
    auto it = answers.find(name);
    if (it == answers.end()) return std::optional<RegistryCredentials>();
    return std::optional<RegistryCredentials>(it->second);
  }
  std::map<std::string, RegistryCredentials> answers;
  std::vector<std::string> asked;
};

TEST(CredentialsTest, HelpersAsDockerAsksThem) {
  // credHelpers for the host first, then auths, then credsStore.
  std::string file =
      Write("helpers.json", R"({"credHelpers":{"reg.example:5000":"pass"},)"
                            R"("auths":{"other.example":{"auth":"Ym9iOnB3"}},)"
                            R"("credsStore":"desktop"})");
  FakeHelpers helpers;
  helpers.answers["pass"] = {"ci", "from-pass"};
  helpers.answers["desktop"] = {"me", "from-desktop"};
  auto c = FindRegistryCredentials({file}, "reg.example:5000", &helpers);
  ASSERT_TRUE(c.ok() && c->has_value()) << c.status();
  EXPECT_EQ((*c)->password, "from-pass");
  c = FindRegistryCredentials({file}, "other.example", &helpers);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->username, "bob");
  c = FindRegistryCredentials({file}, "docker.io", &helpers);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->password, "from-desktop");
  EXPECT_EQ(helpers.asked,
            (std::vector<std::string>{"pass reg.example:5000",
                                      "desktop https://index.docker.io/v1/"}));
  // Helpers that have nothing: the next file is read.
  std::string next = Write(
      "next.json", R"({"auths":{"reg.example:5000":{"auth":"Ym9iOnB3"}}})");
  helpers.answers.clear();
  c = FindRegistryCredentials({file, next}, "reg.example:5000", &helpers);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->username, "bob");
  // A name that would leave docker-credential-*: refused, naming the file.
  std::string bad = Write("bad-helper.json",
                          R"({"credHelpers":{"r.example":"../../bin/sh"}})");
  c = FindRegistryCredentials({bad}, "r.example", &helpers);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      c.status().message(),
      bad + ": credHelpers.\"r.example\" is not a credential helper name");
}

TEST(CredentialsTest, BadFilesAreNamedWithoutTheirSecrets) {
  std::string bad = Write("bad.json", "{not json");
  auto c = FindRegistryCredentials({bad}, "r");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), bad + ": not valid JSON");
  std::string undecodable = Write(
      "undecodable.json", R"({"auths":{"r":{"auth":"!!secret-value!!"}}})");
  c = FindRegistryCredentials({undecodable}, "r");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            undecodable + ": auths.\"r\".auth is not base64 of USER:PASSWORD");
}

}  // namespace
}  // namespace pbrx::common::registry
