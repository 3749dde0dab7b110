// EnsureDebianBase refuses a spec that could smuggle text into the
// mmdebstrap command before anything runs (the real mmdebstrap build is
// exercised by //tests:base_image_test).
#include "executor/debian_base.h"

#include <unistd.h>

#include "cache/in_memory_action_cache.h"
#include "cache/in_memory_blob_store.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::executor {
namespace {

TEST(DebianBaseTest, HostileSpecsAreRefusedAndNothingRuns) {
  cache::InMemoryBlobStore cas;
  cache::InMemoryActionCache ac;
  std::string dir = testing_util::NewTempDir("base");
  std::string canary = dir + "/pwned";
  struct Case {
    DebianBaseSpec spec;
    std::string message;
  };
  DebianBaseSpec suite, variant, package;
  suite.suite = "bookworm;touch " + canary + ";#";
  variant.variant = "minbase --customize-hook='touch " + canary + "'";
  package.include = {"python3", "x,$(touch " + canary + ")"};
  for (const Case& c : std::vector<Case>{
           {suite, "Debian suite 'bookworm;touch " + canary +
                       ";#' is not a suite name ([a-z][a-z0-9.+-], at most "
                       "64)"},
           {variant, "'minbase --customize-hook='touch " + canary +
                         "'' is not an mmdebstrap variant"},
           {package,
            "'x,$(touch " + canary + ")' is not a Debian package name"}}) {
    auto base = EnsureDebianBase(c.spec, cas, ac, dir);
    EXPECT_EQ(base.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(base.status().message(), c.message);
  }
  EXPECT_NE(access(canary.c_str(), F_OK), 0);
  EXPECT_EQ(cas.Stats().blobs, 0);  // refused before any key was written
  EXPECT_TRUE(ValidateDebianBaseSpec(DebianBaseSpec{}).ok());
}

}  // namespace
}  // namespace pbrx::executor
