#include "tests/netns_peer.h"

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
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/process.h"
#include "tests/test_util.h"

namespace pbrx::testing_util {
namespace {

// Runs ip (inside the network namespace `netns` when given).
absl::Status Ip(const std::vector<std::string>& args,
                const std::string& netns = "") {
  std::vector<std::string> argv;
  if (!netns.empty()) argv = {"/usr/bin/nsenter", "--net=" + netns};
  argv.push_back("/usr/sbin/ip");
  argv.insert(argv.end(), args.begin(), args.end());
  common::ProcessOptions o;
  o.timeout = absl::Seconds(20);
  o.log_path = NewTempDir("ip") + "/log";
  auto r = common::RunProcess(argv, o);
  if (r.ok() && r->ok()) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(absl::StrJoin(argv, " "), ": ",
                   r.ok() ? r->Describe() : std::string(r.status().message()),
                   ": ", ReadFile(o.log_path)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<OtherHost>> OtherHost::Create() {
  std::unique_ptr<OtherHost> h(new OtherHost());
  h->holder_ = fork();
  if (h->holder_ < 0) return absl::InternalError("fork failed");
  if (h->holder_ == 0) {
    if (unshare(CLONE_NEWNET) != 0) _exit(1);
    pause();
    _exit(0);
  }
  h->netns_ = absl::StrCat("/proc/", h->holder_, "/ns/net");
  struct stat mine, theirs;
  stat("/proc/self/ns/net", &mine);
  bool moved = false;
  for (int i = 0; i < 500 && !moved; ++i) {
    moved =
        stat(h->netns_.c_str(), &theirs) == 0 && theirs.st_ino != mine.st_ino;
    if (!moved) absl::SleepFor(absl::Milliseconds(10));
  }
  if (!moved) return absl::InternalError("the holder has no namespace");
  // Unique per process and per host in it: a previous host's veth may
  // still be going away when the next test makes one.
  static std::atomic<int> next{0};
  int seq = next.fetch_add(1) % 8;
  int n = (getpid() * 8 + seq) % 16000;
  std::string host_if = absl::StrCat("pbxh", getpid() % 1000000, "s", seq);
  std::string peer_if = absl::StrCat("pbxp", getpid() % 1000000, "s", seq);
  h->host_ip_ = absl::StrCat("10.", 100 + n / 250, ".", n % 250, ".1");
  h->peer_ip_ = absl::StrCat("10.", 100 + n / 250, ".", n % 250, ".2");
  for (const auto& [args, netns] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"link", "add", host_if, "type", "veth", "peer", "name", peer_if,
             "netns", absl::StrCat(h->holder_)},
            ""},
           {{"addr", "add", h->host_ip_ + "/30", "dev", host_if}, ""},
           {{"link", "set", host_if, "up"}, ""},
           {{"addr", "add", h->peer_ip_ + "/30", "dev", peer_if}, h->netns_},
           {{"link", "set", peer_if, "up"}, h->netns_},
           {{"link", "set", "lo", "up"}, h->netns_}}) {
    absl::Status s = Ip(args, netns);
    if (!s.ok()) return s;
  }
  return h;
}

OtherHost::~OtherHost() {
  if (holder_ > 0) {
    kill(holder_, SIGKILL);
    waitpid(holder_, nullptr, 0);
  }
}

TcpServer::TcpServer(const std::string& netns, const std::string& ip,
                     std::string reply) {
  std::atomic<bool> ready{false};
  thread_ = std::thread([this, &ready, netns, ip, reply] {
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
      size_t sent = 0;
      while (sent < reply.size()) {
        ssize_t w = write(c, reply.data() + sent, reply.size() - sent);
        if (w <= 0) break;
        sent += w;
      }
      close(c);
    }
  });
  while (!ready) absl::SleepFor(absl::Milliseconds(5));
}

TcpServer::~TcpServer() {
  shutdown(fd_, SHUT_RDWR);
  thread_.join();
  close(fd_);
}

}  // namespace pbrx::testing_util
