// What egress isolation costs a step that downloads: a 256 MiB download
// from a server in another network namespace (standing for a mirror or an
// index) by a host process (the baseline), by a sandbox sharing the host's
// network, and by an isolated egress sandbox (its own namespace behind
// slirp4netns); and the start-up cost of an egress sandbox against one
// without network. Prints a table. Root only.
//
//   bazel run -c opt //tools/bench:egress_bench [-- --megabytes=N --runs=N]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/flag_parser.h"
#include "executor/bubblewrap_sandbox.h"
#include "tests/netns_peer.h"
#include "tests/test_util.h"

namespace {

using pbrx::executor::BubblewrapOptions;
using pbrx::executor::BubblewrapSandbox;
using pbrx::executor::SandboxSpec;

// Seconds for a host process to read everything from ip:port.
double HostDownload(const std::string& ip, int port) {
  absl::Time start = absl::Now();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  char buf[1 << 16];
  while (read(fd, buf, sizeof(buf)) > 0) {
  }
  close(fd);
  return absl::ToDoubleSeconds(absl::Now() - start);
}

// Seconds for a sandbox to run `script` (-1 when it fails).
double InSandbox(bool network, bool isolate, const std::string& script,
                 const std::string& dir) {
  BubblewrapOptions o;
  o.isolate_egress = isolate;
  auto sandbox = BubblewrapSandbox::Create(o);
  if (!sandbox.ok()) return -1;
  SandboxSpec spec;
  spec.argv = {"bash", "-c", script};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  spec.network = network;
  spec.scratch_dir = dir;
  spec.stderr_path = dir + "/err";
  spec.timeout = absl::Minutes(5);
  absl::Time start = absl::Now();
  auto r = (*sandbox)->Run(spec);
  if (!r.ok() || r->exit_code != 0) return -1;
  return absl::ToDoubleSeconds(absl::Now() - start);
}

double Best(int runs, const std::function<double()>& f) {
  double best = -1;
  for (int i = 0; i < runs; ++i) {
    double t = f();
    if (t >= 0 && (best < 0 || t < best)) best = t;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t megabytes = 256, runs = 3;
  pbrx::common::FlagParser flags("egress_bench");
  flags.AddInt("megabytes", &megabytes, "size of the download");
  flags.AddInt("runs", &runs, "runs per row (the best is shown)");
  bool help = false;
  if (absl::Status s = flags.Parse(argc, argv, &help); !s.ok() || help) {
    std::fprintf(stderr, "%s\n%s", std::string(s.message()).c_str(),
                 flags.Usage().c_str());
    return s.ok() ? 0 : 2;
  }
  auto other = pbrx::testing_util::OtherHost::Create();
  if (!other.ok()) {
    std::fprintf(stderr, "egress_bench: %s\n",
                 std::string(other.status().message()).c_str());
    return 1;
  }
  pbrx::testing_util::TcpServer server(
      (*other)->netns(), (*other)->peer_ip(),
      std::string(static_cast<size_t>(megabytes) << 20, 'x'));
  std::string dir = pbrx::testing_util::NewTempDir("egress-bench");
  const std::string ip = (*other)->peer_ip();
  const int port = server.port();
  const std::string download = absl::StrCat("exec 3<>/dev/tcp/", ip, "/", port,
                                            " && cat <&3 >/dev/null");
  double host = Best(runs, [&] { return HostDownload(ip, port); });
  double shared =
      Best(runs, [&] { return InSandbox(true, false, download, dir); });
  double isolated =
      Best(runs, [&] { return InSandbox(true, true, download, dir); });
  double none_start =
      Best(runs, [&] { return InSandbox(false, true, "true", dir); });
  double egress_start =
      Best(runs, [&] { return InSandbox(true, true, "true", dir); });
  auto mbs = [&](double s) { return s > 0 ? megabytes / s : 0.0; };
  std::printf("%-44s %10s %10s\n", "", "seconds", "MiB/s");
  std::printf("%-44s %10.3f %10.0f\n", "download, host process (baseline)",
              host, mbs(host));
  std::printf("%-44s %10.3f %10.0f\n",
              "download, sandbox sharing the host network", shared,
              mbs(shared));
  std::printf("%-44s %10.3f %10.0f\n",
              "download, isolated egress (slirp4netns)", isolated,
              mbs(isolated));
  std::printf("%-44s %10.3f\n", "sandbox start, network=none", none_start);
  std::printf("%-44s %10.3f\n", "sandbox start, network=egress (isolated)",
              egress_start);
  return 0;
}
