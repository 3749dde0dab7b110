// EgressNetwork: the network of a sandbox whose step may download
// (network=egress). The sandbox has a network namespace of its own (bwrap
// --unshare-net); slirp4netns gives it user-mode networking (a tap device,
// configured here as 10.0.2.100/24 with the default route via 10.0.2.2; DNS
// at 10.0.2.3) whose connections leave from this host,
// and routes inside the namespace make the destinations a step must never
// reach unreachable ("prohibit": EACCES): this host's own addresses (its
// services and the farm's ports on them), link-local and cloud metadata
// addresses, and whatever the operator adds (--egress-deny, the farm's
// other hosts). The host's loopback is out of reach twice: the namespace's
// 127.0.0.1 is its own, and slirp4netns runs with --disable-host-loopback.
// The sandboxed command cannot change the routes (no capabilities, seccomp).
#ifndef PBRX_EXECUTOR_EGRESS_NETWORK_H_
#define PBRX_EXECUTOR_EGRESS_NETWORK_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pbrx::executor {

struct EgressOptions {
  std::string slirp4netns = "/usr/bin/slirp4netns";
  std::string nsenter = "/usr/bin/nsenter";
  std::string ip = "/usr/sbin/ip";
  // IPv4 CIDRs no egress step may reach, besides this host's own addresses
  // (read at every Attach).
  std::vector<std::string> denied = {
      "169.254.0.0/16",      // link-local: cloud metadata (169.254.169.254)
      "100.100.100.200/32",  // another cloud's metadata service
      "10.0.2.2/32",         // slirp4netns' alias of this host
  };
  absl::Duration setup_timeout = absl::Seconds(20);
};

// "a.b.c.d/n" with n in 0..32: the only text that reaches a route command.
bool IsIpv4Cidr(const std::string& cidr);

// The IPv4 addresses of this host's interfaces, as /32 CIDRs.
std::vector<std::string> HostAddresses();

// The IPv4 addresses (as /32 CIDRs) a "HOST:PORT" target resolves to; empty
// when it does not resolve.
std::vector<std::string> ResolveIpv4(const std::string& host_port);

// UNAVAILABLE naming the missing tool unless slirp4netns, nsenter and ip
// can be executed.
absl::Status CheckEgressTools(const EgressOptions& options);

class EgressNetwork {
 public:
  // Gives the network namespace of `sandbox_pid` (the sandbox's first
  // process, from bwrap --info-fd) its network and its denied routes, and
  // returns once it is ready; `scratch_dir` holds slirp4netns' log and the
  // route batch. UNAVAILABLE with slirp4netns' or ip's own words when it
  // cannot be set up (nothing then runs in the sandbox).
  static absl::StatusOr<std::unique_ptr<EgressNetwork>> Attach(
      pid_t sandbox_pid, const std::string& scratch_dir,
      const EgressOptions& options);
  // Stops slirp4netns.
  ~EgressNetwork();

  EgressNetwork(const EgressNetwork&) = delete;
  EgressNetwork& operator=(const EgressNetwork&) = delete;

 private:
  EgressNetwork(pid_t slirp_pid, int exit_fd)
      : slirp_pid_(slirp_pid), exit_fd_(exit_fd) {}
  pid_t slirp_pid_;
  int exit_fd_;  // closing it tells slirp4netns to exit
};

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_EGRESS_NETWORK_H_
