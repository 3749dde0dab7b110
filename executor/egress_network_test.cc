// network=egress against real peers: a server in another network namespace
// (standing for the outside) answers the sandbox through slirp4netns, while
// this host's loopback, this host's own addresses (the farm's ports) and
// metadata addresses stay out of reach. Needs root, bwrap, slirp4netns and
// ip ("local").
#include "executor/egress_network.h"

#include "absl/strings/str_cat.h"
#include "executor/bubblewrap_sandbox.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/netns_peer.h"
#include "tests/test_util.h"

namespace pbrx::executor {
namespace {

using ::testing::HasSubstr;

class EgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::NewTempDir("egress");
    auto other = testing_util::OtherHost::Create();
    ASSERT_TRUE(other.ok()) << other.status();
    other_ = std::move(*other);
    host_ip_ = other_->host_ip();
    peer_ip_ = other_->peer_ip();
  }

  // Runs `script` in an egress sandbox; returns stdout + stderr.
  std::string Egress(const std::string& script, bool isolate = true,
                     const std::vector<std::string>& denied = {}) {
    BubblewrapOptions o;
    o.isolate_egress = isolate;
    o.egress.denied.insert(o.egress.denied.end(), denied.begin(), denied.end());
    auto sandbox = BubblewrapSandbox::Create(o);
    EXPECT_TRUE(sandbox.ok()) << sandbox.status();
    if (!sandbox.ok()) return "";
    SandboxSpec spec;
    spec.argv = {"bash", "-c", script};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.network = true;
    spec.stdout_path = dir_ + "/out";
    spec.stderr_path = dir_ + "/err";
    spec.scratch_dir = dir_;
    spec.timeout = absl::Seconds(60);
    auto r = (*sandbox)->Run(spec);
    EXPECT_TRUE(r.ok()) << r.status();
    return testing_util::ReadFile(dir_ + "/out") +
           testing_util::ReadFile(dir_ + "/err");
  }
  static std::string Probe(const std::string& ip, int port) {
    return absl::StrCat("if exec 3<>/dev/tcp/", ip, "/", port,
                        "; then head -c 6 <&3; else echo FAILED; fi");
  }

  std::unique_ptr<testing_util::OtherHost> other_;
  std::string host_ip_, peer_ip_, dir_;
};

TEST_F(EgressTest, TheOutsideAnswersTheHostDoesNot) {
  testing_util::TcpServer outside(other_->netns(), peer_ip_, "hello\n");
  testing_util::TcpServer loopback("", "127.0.0.1", "hello\n");
  // A service on this host's address (a farm port).
  testing_util::TcpServer farm_port("", host_ip_, "hello\n");
  ASSERT_GT(outside.port(), 0);
  ASSERT_GT(loopback.port(), 0);
  ASSERT_GT(farm_port.port(), 0);

  EXPECT_EQ(Egress(Probe(peer_ip_, outside.port())), "hello\n");
  EXPECT_EQ(outside.accepted(), 1);

  std::string lo = Egress(Probe("127.0.0.1", loopback.port()));
  EXPECT_THAT(lo, HasSubstr("Connection refused")) << lo;
  std::string alias = Egress(Probe("10.0.2.2", loopback.port()));
  EXPECT_THAT(alias, HasSubstr("Permission denied")) << alias;
  EXPECT_EQ(loopback.accepted(), 0);

  std::string own = Egress(Probe(host_ip_, farm_port.port()));
  EXPECT_THAT(own, HasSubstr("Permission denied")) << own;
  EXPECT_EQ(farm_port.accepted(), 0);

  std::string metadata = Egress(Probe("169.254.169.254", 80));
  EXPECT_THAT(metadata, HasSubstr("Permission denied")) << metadata;

  EXPECT_EQ(Egress("cat /etc/resolv.conf; stat -c %a /etc/resolv.conf; "
                   "ip -4 -o addr show tap0 | awk '{print $4}'"),
            "nameserver 10.0.2.3\n644\n10.0.2.100/24\n");

  // The control: sharing the host's network, the same service answers, so
  // the refusal above is the isolation's.
  EXPECT_EQ(Egress(Probe(host_ip_, farm_port.port()), /*isolate=*/false),
            "hello\n");
  EXPECT_EQ(farm_port.accepted(), 1);
}

TEST_F(EgressTest, AnAddressDeniedTwiceIsOneRoute) {
  // An executor whose coordinator and cache share a host: both resolve to
  // the same address, which is also one of this host's own.
  testing_util::TcpServer outside(other_->netns(), peer_ip_, "hello\n");
  ASSERT_GT(outside.port(), 0);
  std::string got = Egress(
      Probe(peer_ip_, outside.port()) +
          "; ip -4 route show type prohibit | grep -c '^prohibit 127.0.0.1 '",
      true, {"127.0.0.1/32", "127.0.0.1/32", host_ip_ + "/32"});
  EXPECT_EQ(got, "hello\n1\n");
}

TEST(EgressNetworkTest, RouteTextIsCidrsOnly) {
  EXPECT_TRUE(IsIpv4Cidr("10.0.0.0/8"));
  EXPECT_TRUE(IsIpv4Cidr("169.254.169.254/32"));
  EXPECT_FALSE(IsIpv4Cidr("10.0.0.0"));
  EXPECT_FALSE(IsIpv4Cidr("10.0.0.0/33"));
  EXPECT_FALSE(IsIpv4Cidr("10.0.0.0/8\nroute del default"));
  EXPECT_FALSE(IsIpv4Cidr("example.org/32"));
  EXPECT_FALSE(IsIpv4Cidr("10.0.0.0/-1"));
  std::vector<std::string> own = HostAddresses();
  EXPECT_THAT(own, ::testing::Contains("127.0.0.1/32"));
  for (const std::string& a : own) EXPECT_TRUE(IsIpv4Cidr(a)) << a;
}

}  // namespace
}  // namespace pbrx::executor
