#include "common/registry/image_reference.h"

#include "gtest/gtest.h"

namespace pbrx::common::registry {
namespace {

TEST(ImageReferenceTest, ParsesRegistryRepositoryTagAndDigest) {
  const std::string digest = "sha256:" + std::string(64, 'a');
  auto r = ParseImageReference("localhost:5000/team/app:v1.2@" + digest);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->registry, "localhost:5000");
  EXPECT_EQ(r->repository, "team/app");
  EXPECT_EQ(r->tag, "v1.2");
  EXPECT_EQ(r->digest, digest);
  EXPECT_EQ(r->ToString(), "localhost:5000/team/app:v1.2@" + digest);
  EXPECT_EQ(r->Name(), "localhost:5000/team/app");
}

TEST(ImageReferenceTest, DockerHubDefaults) {
  auto r = ParseImageReference("debian:bookworm");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->registry, "docker.io");
  EXPECT_EQ(r->repository, "library/debian");
  EXPECT_EQ(r->ApiHost(), "registry-1.docker.io");
  r = ParseImageReference("team/app");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->registry, "docker.io");
  EXPECT_EQ(r->repository, "team/app");
  EXPECT_EQ(r->tag, "");
  r = ParseImageReference("registry.example.org/a/b/c");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->registry, "registry.example.org");
  EXPECT_EQ(r->repository, "a/b/c");
  r = ParseImageReference("localhost/app");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->registry, "localhost");
}

TEST(ImageReferenceTest, RefusesWhatTheGrammarDoesNot) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"", "image reference '': empty"},
      {"Team/app",
       "image reference 'Team/app': 'Team' is not a valid "
       "repository path component (lowercase letters, digits, "
       "separators . _ __ -)"},
      {"localhost:5000/app:-x",
       "image reference 'localhost:5000/app:-x': "
       "tag '-x' is not valid ([A-Za-z0-9_] then "
       "[A-Za-z0-9_.-], at most 128)"},
      {"app@sha256:abc",
       "image reference 'app@sha256:abc': the digest is not "
       "sha256: followed by 64 lowercase hex digits"},
      {"reg;x.org/app",
       "image reference 'reg;x.org/app': registry "
       "'reg;x.org' is not a host name with an optional port"},
      {"localhost:5000/a//b",
       "image reference 'localhost:5000/a//b': '' is "
       "not a valid repository path component "
       "(lowercase letters, digits, separators . _ __ "
       "-)"},
  };
  for (const Case& c : cases) {
    auto r = ParseImageReference(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message);
  }
  EXPECT_FALSE(ParseImageReference(std::string(600, 'a')).ok());
}

}  // namespace
}  // namespace pbrx::common::registry
