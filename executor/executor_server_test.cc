// ExecutorServer::Create refuses bad options with INVALID_ARGUMENT naming
// the flag, before it touches the host (no mount namespace, no work dir).
#include "executor/executor_server.h"

#include <sys/stat.h>

#include <string>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "gtest/gtest.h"

namespace pbrx::executor {
namespace {

ExecutorServerOptions Valid() {
  ExecutorServerOptions o;
  o.coordinator = "grpc://127.0.0.1:1";
  o.cache = "grpc://127.0.0.1:1";
  o.work_dir = std::string(getenv("TEST_TMPDIR")) + "/never-made";
  o.name = "test";
  return o;
}

void ExpectRefused(const ExecutorServerOptions& o, const std::string& want) {
  common::RealClock clock;
  absl::StatusOr<std::unique_ptr<ExecutorServer>> s =
      ExecutorServer::Create(o, &clock);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument)
      << s.status();
  EXPECT_EQ(s.status().message(), want);
  struct stat st;
  EXPECT_NE(stat(o.work_dir.c_str(), &st), 0) << "work dir made before "
                                                 "the options were checked";
}

TEST(ExecutorServerTest, RefusesBadOptionsNamingTheFlag) {
  ExecutorServerOptions o = Valid();
  o.slots = 0;
  ExpectRefused(o, "--slots must be 1..256");
  o = Valid();
  o.slots = 257;
  ExpectRefused(o, "--slots must be 1..256");
  o = Valid();
  o.platform = {"gpu=yes", "=x"};
  ExpectRefused(o, "--platform =x: expected KEY=VALUE");
  o = Valid();
  o.platform = {"novalue"};
  ExpectRefused(o, "--platform novalue: expected KEY=VALUE");
  o = Valid();
  o.egress_deny = {"10.0.0.0/8", "10.0.0.0/33"};
  ExpectRefused(o,
                "--egress-deny 10.0.0.0/33: expected an IPv4 CIDR "
                "a.b.c.d/n");
  o = Valid();
  o.channel.tls.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  ExpectRefused(o,
                "--tls-ca, --tls-cert and --tls-key need a grpcs:// "
                "--coordinator or --cache");
  o = Valid();
  o.limits.max_pids = 3;
  ExpectRefused(o, "--action-pids 3 is outside 16..4194304");
}

TEST(ExecutorServerTest, RefusesABadPeerUrlNamingTheFlag) {
  ExecutorServerOptions o = Valid();
  o.cache = "http://127.0.0.1:1";
  common::RealClock clock;
  absl::StatusOr<std::unique_ptr<ExecutorServer>> s =
      ExecutorServer::Create(o, &clock);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(s.status().message(), "--cache: "))
      << s.status();
}

}  // namespace
}  // namespace pbrx::executor
