#include "executor/sandbox_ids.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::executor {
namespace {

TEST(SandboxIdsTest, DefaultIsTwoToTheThirtyOneAndSixtyFiveThousandIds) {
  SandboxIds ids;
  EXPECT_EQ(ids.ToString(), "2147483648:65536");
  EXPECT_EQ(ids.MapLine(), "0 2147483648 65536\n");
  EXPECT_EQ(ids.Host(42), 2147483690u);
}

TEST(SandboxIdsTest, ParsesFirstAndCount) {
  absl::StatusOr<SandboxIds> ids = ParseSandboxIds("100000:70000");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->first, 100000u);
  EXPECT_EQ(ids->count, 70000u);
}

TEST(SandboxIdsTest, RefusesRangesThatReachHostIdsOrAreTooSmall) {
  EXPECT_EQ(ParseSandboxIds("1000").status().message(),
            "--sandbox-id-range '1000' is not FIRST:COUNT");
  EXPECT_EQ(ParseSandboxIds("-5:65536").status().message(),
            "--sandbox-id-range '-5:65536' is not FIRST:COUNT");
  EXPECT_EQ(ParseSandboxIds("0:65536").status().message(),
            "--sandbox-id-range starts at 0, below the minimum 65536 (system "
            "and login ids live there)");
  EXPECT_EQ(ParseSandboxIds("100000:1").status().message(),
            "--sandbox-id-range has 1 ids, fewer than the 65536 a Debian root "
            "filesystem uses");
  EXPECT_EQ(ParseSandboxIds("4294960000:65536").status().message(),
            "--sandbox-id-range 4294960000:65536 ends past the last id "
            "4294967294");
  EXPECT_EQ(ParseSandboxIds("100000:1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SandboxIdsTest, RefusesARangeAUserOrGroupHas) {
  std::string dir = testing_util::NewTempDir("ids");
  std::ofstream(dir + "/passwd") << "root:x:0:0:root:/root:/bin/bash\n"
                                    "ci:x:100042:100042::/home/ci:/bin/sh\n";
  std::ofstream(dir + "/group") << "root:x:0:\nbuilders:x:2147483700:\n";
  SandboxIds low = *ParseSandboxIds("100000:65536");
  absl::Status s = CheckSandboxIdsUnused(low, dir + "/passwd", dir + "/group");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            dir +
                "/passwd:2: user 'ci' has id 100042, inside the sandbox id "
                "range 100000:65536 (--sandbox-id-range): pick a range no "
                "user or group uses");
  s = CheckSandboxIdsUnused(SandboxIds(), dir + "/passwd", dir + "/group");
  EXPECT_EQ(s.message(),
            dir +
                "/group:2: group 'builders' has id 2147483700, inside the "
                "sandbox id range 2147483648:65536 (--sandbox-id-range): "
                "pick a range no user or group uses");
  SandboxIds free_range = *ParseSandboxIds("200000:65536");
  EXPECT_TRUE(
      CheckSandboxIdsUnused(free_range, dir + "/passwd", dir + "/group").ok());
}

}  // namespace
}  // namespace pbrx::executor
