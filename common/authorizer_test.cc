#include "common/authorizer.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

// A token's SHA-256 as the file lists it (any 64 lowercase hex digits).
constexpr char kTokenSha[] =
    "9dfb0b7ba2d8c9f4fc2eef1ef0b8baf8ac5b1b1e4dc3c3a2d6f0c1c0d9e8f7a6";

TEST(AuthorizerTest, ParsesPrincipalsAndNamesBadLines) {
  EXPECT_TRUE(Authorizer::Parse(absl::StrCat("# comment\n\n", kTokenSha,
                                             " write team-a  # ci\n"
                                             "cn:executor-1 executor\n"),
                                "tokens")
                  .ok());
  auto message = [](absl::string_view text) {
    return std::string(Authorizer::Parse(text, "tokens").status().message());
  };
  EXPECT_EQ(message("abc read\n"),
            "tokens:1: the first field must be the SHA-256 of a token (64 "
            "lowercase hex digits; e.g. printf %s TOKEN | sha256sum) or "
            "cn:NAME");
  EXPECT_EQ(message(absl::StrCat("\n", kTokenSha, " root\n")),
            "tokens:2: unknown role 'root' (read, write, execute, executor, "
            "admin)");
  EXPECT_EQ(message(absl::StrCat(kTokenSha, " read ../x\n")),
            "tokens:1: '../x' is not an instance name prefix");
  EXPECT_EQ(message(absl::StrCat(kTokenSha, " read\n", kTokenSha, " admin\n")),
            absl::StrCat("tokens:2: '", kTokenSha, "' is listed twice"));
  EXPECT_EQ(message("cn: read\n"), "tokens:1: cn: needs a common name");
  EXPECT_EQ(message(absl::StrCat(kTokenSha, "\n")),
            "tokens:1: expected SHA256-OF-TOKEN ROLE [INSTANCE-PREFIX]");
}

TEST(AuthorizerTest, RolesAllowWhatTheirNamesSay) {
  auto allows = [](const std::string& role, Permission p) {
    return Authorizer::Allows({role, ""}, p, "M", "").ok();
  };
  EXPECT_TRUE(allows("read", Permission::kRead));
  EXPECT_FALSE(allows("read", Permission::kCasWrite));
  EXPECT_TRUE(allows("write", Permission::kAcWrite));
  EXPECT_FALSE(allows("write", Permission::kExecute));
  EXPECT_TRUE(allows("execute", Permission::kExecute));
  EXPECT_TRUE(allows("execute", Permission::kCasWrite));
  EXPECT_FALSE(allows("execute", Permission::kAcWrite));
  EXPECT_FALSE(allows("execute", Permission::kWork));
  EXPECT_TRUE(allows("executor", Permission::kWork));
  EXPECT_FALSE(allows("executor", Permission::kAcWrite));
  EXPECT_FALSE(allows("executor", Permission::kExecute));
  for (Permission p :
       {Permission::kRead, Permission::kCasWrite, Permission::kAcWrite,
        Permission::kExecute, Permission::kWork})
    EXPECT_TRUE(allows("admin", p));
  absl::Status s = Authorizer::Allows({"execute", ""}, Permission::kAcWrite,
                                      "ActionCache.UpdateActionResult", "");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "ActionCache.UpdateActionResult is not allowed for role 'execute'");
}

TEST(AuthorizerTest, InstancePrefixesScopeByWholeSegments) {
  Principal a{"write", "team-a"};
  auto ok = [&](absl::string_view instance) {
    return Authorizer::Allows(a, Permission::kRead, "M", instance).ok();
  };
  EXPECT_TRUE(ok("team-a"));
  EXPECT_TRUE(ok("team-a/linux"));
  EXPECT_FALSE(ok("team-ab"));
  EXPECT_FALSE(ok("team-b/x"));
  EXPECT_FALSE(ok(""));
  EXPECT_EQ(
      Authorizer::Allows(a, Permission::kRead, "ActionCache.Get", "team-b")
          .message(),
      "ActionCache.Get on instance 'team-b' is not allowed: this "
      "credential is limited to 'team-a'");
}

}  // namespace
}  // namespace pbrx::common
