#include "executor/egress_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/process.h"

namespace pbrx::executor {
namespace {

// Waits up to `timeout` for `pid`; SIGKILL and reap after that.
void StopAndReap(pid_t pid, absl::Duration timeout) {
  absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return;
    absl::SleepFor(absl::Milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// Appends the IPv4 address `addr` as "a.b.c.d/32" unless already there.
void AddHostCidr(const sockaddr& addr, std::vector<std::string>* out) {
  char text[INET_ADDRSTRLEN];
  const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
  if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)) == nullptr) return;
  std::string cidr = absl::StrCat(text, "/32");
  if (std::find(out->begin(), out->end(), cidr) == out->end())
    out->push_back(cidr);
}

}  // namespace

bool IsIpv4Cidr(const std::string& cidr) {
  std::vector<std::string> parts = absl::StrSplit(cidr, '/');
  if (parts.size() != 2) return false;
  int bits = -1;
  if (parts[1].empty() || parts[1].size() > 2 ||
      !absl::SimpleAtoi(parts[1], &bits) || bits < 0 || bits > 32)
    return false;
  in_addr addr;
  return inet_pton(AF_INET, parts[0].c_str(), &addr) == 1;
}

std::vector<std::string> HostAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    AddHostCidr(*a->ifa_addr, &out);
  }
  freeifaddrs(list);
  return out;
}

std::vector<std::string> ResolveIpv4(const std::string& host_port) {
  std::vector<std::string> out;
  size_t colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  if (host.empty()) return out;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &list) != 0) return out;
  for (addrinfo* a = list; a != nullptr; a = a->ai_next)
    AddHostCidr(*a->ai_addr, &out);
  freeaddrinfo(list);
  return out;
}

absl::Status CheckEgressTools(const EgressOptions& options) {
  for (const std::string& tool :
       {options.slirp4netns, options.nsenter, options.ip}) {
    if (access(tool.c_str(), X_OK) != 0) {
      return absl::UnavailableError(
          absl::StrCat(tool, " cannot be run (", std::strerror(errno),
                       "): network=egress needs slirp4netns, nsenter and ip "
                       "(apt install slirp4netns util-linux iproute2)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<EgressNetwork>> EgressNetwork::Attach(
    pid_t sandbox_pid, const std::string& scratch_dir,
    const EgressOptions& options) {
  // Routes first checked: nothing but CIDRs reaches the batch file. Each
  // once: a second identical route fails the batch (a coordinator and a
  // cache on one host resolve to the same address, which is also this
  // host's).
  std::vector<std::string> denied;
  for (const std::vector<std::string>& list :
       {options.denied, HostAddresses()}) {
    for (const std::string& cidr : list) {
      if (std::find(denied.begin(), denied.end(), cidr) == denied.end())
        denied.push_back(cidr);
    }
  }
  // The tap device slirp4netns creates is configured here, not by
  // slirp4netns --configure, which would also configure the loopback
  // device that bwrap sets up itself once released (the two collide).
  std::string batch =
      "link set tap0 mtu 65520\n"
      "addr add 10.0.2.100/24 dev tap0\n"
      "link set tap0 up\n"
      "route add default via 10.0.2.2 dev tap0\n";
  for (const std::string& cidr : denied) {
    if (!IsIpv4Cidr(cidr)) {
      return absl::InvalidArgumentError(
          absl::StrCat("denied egress destination '", cidr,
                       "' is not an IPv4 CIDR (a.b.c.d/n)"));
    }
    absl::StrAppend(&batch, "route add prohibit ", cidr, "\n");
  }
  int ready[2], exit_pipe[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(exit_pipe, O_CLOEXEC) != 0) {
    close(ready[0]);
    close(ready[1]);
    return absl::InternalError("pipe failed");
  }
  const std::string log = scratch_dir + "/slirp4netns.log";
  std::vector<std::string> args = {options.slirp4netns,
                                   "--mtu=65520",
                                   "--disable-host-loopback",
                                   "--enable-sandbox",
                                   "--enable-seccomp",
                                   "--ready-fd=3",
                                   "--exit-fd=4",
                                   absl::StrCat(sandbox_pid),
                                   "tap0"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {ready[0], ready[1], exit_pipe[0], exit_pipe[1]}) close(fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    setpgid(0, 0);
    // Its two descriptors at 3 and 4 (moved out of the way first), its
    // output to the log, nothing else.
    int r = fcntl(ready[1], F_DUPFD, 10), e = fcntl(exit_pipe[0], F_DUPFD, 10);
    int devnull = open("/dev/null", O_RDWR);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(devnull, 0);
    dup2(out >= 0 ? out : devnull, 1);
    dup2(out >= 0 ? out : devnull, 2);
    dup2(r, 3);
    dup2(e, 4);
    syscall(SYS_close_range, 5, ~0U, 0);
    execve(argv[0], argv.data(), envp);
    _exit(127);
  }
  close(ready[1]);
  close(exit_pipe[0]);
  auto fail = [&](const std::string& why) {
    close(ready[0]);
    close(exit_pipe[1]);
    StopAndReap(pid, absl::Seconds(2));
    return absl::UnavailableError(
        absl::StrCat("egress network for the sandbox: ", why, ": ",
                     common::ReadTail(log, 5)));
  };
  pollfd p{ready[0], POLLIN, 0};
  int n =
      poll(&p, 1,
           static_cast<int>(absl::ToInt64Milliseconds(options.setup_timeout)));
  char byte = 0;
  if (n != 1 || read(ready[0], &byte, 1) != 1 || byte != '1') {
    return fail(n == 0 ? "slirp4netns was not ready in time"
                       : "slirp4netns did not start");
  }
  close(ready[0]);
  ready[0] = -1;
  std::unique_ptr<EgressNetwork> net(new EgressNetwork(pid, exit_pipe[1]));
  const std::string batch_file = scratch_dir + "/egress-routes";
  std::ofstream(batch_file) << batch;
  common::ProcessOptions po;
  po.log_path = scratch_dir + "/egress-routes.log";
  po.timeout = options.setup_timeout;
  absl::StatusOr<common::ProcessResult> routes = common::RunProcess(
      {options.nsenter, absl::StrCat("--net=/proc/", sandbox_pid, "/ns/net"),
       options.ip, "-batch", batch_file},
      po);
  if (!routes.ok() || !routes->ok()) {
    return absl::UnavailableError(absl::StrCat(
        "egress network for the sandbox: its routes could not be set (",
        routes.ok() ? routes->Describe()
                    : std::string(routes.status().message()),
        "): ", common::ReadTail(po.log_path, 5)));
  }
  return net;
}

EgressNetwork::~EgressNetwork() {
  close(exit_fd_);  // slirp4netns polls it and exits
  StopAndReap(slirp_pid_, absl::Seconds(2));
}

}  // namespace pbrx::executor
