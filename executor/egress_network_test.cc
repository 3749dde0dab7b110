// network=egress against real peers: a server in another network namespace
// (standing for the outside) answers the sandbox through slirp4netns, while
// this host's loopback, this host's own addresses (the farm's ports) and
// metadata addresses stay out of reach. Needs root, bwrap, slirp4netns and
// ip ("local").
#include "executor/egress_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/process.h"
#include "executor/bubblewrap_sandbox.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::executor {
namespace {

using ::testing::HasSubstr;

// A TCP server answering "hello\n" to every connection, on `ip`, in the
// network namespace `netns` ("" = this one), on its own thread.
class HelloServer {
 public:
  HelloServer(const std::string& netns, const std::string& ip) {
    std::atomic<bool> ready{false};
    thread_ = std::thread([&, netns, ip] {
      if (!netns.empty()) {
        int ns = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
          ready = true;
          return;
        }
        close(ns);
      }
      fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
      socklen_t len = sizeof(a);
      if (bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
          listen(fd_, 16) != 0 ||
          getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ready = true;
        return;
      }
      port_ = ntohs(a.sin_port);
      ready = true;
      while (true) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        ++accepted_;
        (void)!write(c, "hello\n", 6);
        close(c);
      }
    });
    while (!ready) absl::SleepFor(absl::Milliseconds(5));
  }
  ~HelloServer() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  std::thread thread_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
};

// Runs ip (inside the network namespace `netns` when given).
::testing::AssertionResult Ip(const std::vector<std::string>& args,
                              const std::string& netns = "") {
  std::vector<std::string> argv;
  if (!netns.empty()) argv = {"/usr/bin/nsenter", "--net=" + netns};
  argv.push_back("/usr/sbin/ip");
  argv.insert(argv.end(), args.begin(), args.end());
  common::ProcessOptions o;
  o.timeout = absl::Seconds(20);
  o.log_path = testing_util::NewTempDir("ip") + "/log";
  auto r = common::RunProcess(argv, o);
  if (r.ok() && r->ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << absl::StrJoin(argv, " ") << ": "
         << (r.ok() ? r->Describe() : std::string(r.status().message())) << ": "
         << testing_util::ReadFile(o.log_path);
}

class EgressTest : public ::testing::Test {
 protected:
  // The other host: a network namespace held by a process of its own
  // (named namespaces under /run/netns race when created concurrently).
  void SetUp() override {
    dir_ = testing_util::NewTempDir("egress");
    holder_ = fork();
    ASSERT_GE(holder_, 0);
    if (holder_ == 0) {
      if (unshare(CLONE_NEWNET) != 0) _exit(1);
      pause();
      _exit(0);
    }
    netns_ = absl::StrCat("/proc/", holder_, "/ns/net");
    // Wait until the holder is in its own namespace.
    struct stat mine, theirs;
    stat("/proc/self/ns/net", &mine);
    for (int i = 0; i < 500; ++i) {
      if (stat(netns_.c_str(), &theirs) == 0 && theirs.st_ino != mine.st_ino)
        break;
      absl::SleepFor(absl::Milliseconds(10));
    }
    // A /30 of its own per test process (runs may be concurrent).
    int n = getpid() % 16000;
    host_if_ = absl::StrCat("pbxh", getpid());
    peer_if_ = absl::StrCat("pbxp", getpid());
    host_ip_ = absl::StrCat("10.", 100 + n / 250, ".", n % 250, ".1");
    peer_ip_ = absl::StrCat("10.", 100 + n / 250, ".", n % 250, ".2");
    ASSERT_TRUE(Ip({"link", "add", host_if_, "type", "veth", "peer", "name",
                    peer_if_, "netns", absl::StrCat(holder_)}));
    ASSERT_TRUE(Ip({"addr", "add", host_ip_ + "/30", "dev", host_if_}));
    ASSERT_TRUE(Ip({"link", "set", host_if_, "up"}));
    ASSERT_TRUE(Ip({"addr", "add", peer_ip_ + "/30", "dev", peer_if_}, netns_));
    ASSERT_TRUE(Ip({"link", "set", peer_if_, "up"}, netns_));
    ASSERT_TRUE(Ip({"link", "set", "lo", "up"}, netns_));
  }
  void TearDown() override {
    if (holder_ > 0) {
      kill(holder_, SIGKILL);  // the namespace and the veth pair go with it
      waitpid(holder_, nullptr, 0);
    }
  }

  // Runs `script` in an egress sandbox; returns stdout + stderr.
  std::string Egress(const std::string& script, bool isolate = true) {
    BubblewrapOptions o;
    o.isolate_egress = isolate;
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

  pid_t holder_ = -1;
  std::string netns_, host_if_, peer_if_, host_ip_, peer_ip_, dir_;
};

TEST_F(EgressTest, TheOutsideAnswersTheHostDoesNot) {
  HelloServer outside(netns_, peer_ip_);
  HelloServer loopback("", "127.0.0.1");
  HelloServer farm_port("", host_ip_);  // a service on this host's address
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
