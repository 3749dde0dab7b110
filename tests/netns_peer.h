// Test fixtures for network isolation: another "host" (a network namespace
// held by a process of its own, reached over a veth pair; named namespaces
// under /run/netns race when created concurrently) and a TCP server that
// answers every connection with fixed bytes, in any network namespace.
// Root only.
#ifndef PBRX_TESTS_NETNS_PEER_H_
#define PBRX_TESTS_NETNS_PEER_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace pbrx::testing_util {

class OtherHost {
 public:
  // A new namespace with a veth pair: this host HOST_IP/30, the other
  // PEER_IP/30 (a /30 derived from this process's pid), lo up.
  static absl::StatusOr<std::unique_ptr<OtherHost>> Create();
  ~OtherHost();  // kills the holder: the namespace and the pair go
  const std::string& netns() const { return netns_; }  // /proc/PID/ns/net
  const std::string& host_ip() const { return host_ip_; }
  const std::string& peer_ip() const { return peer_ip_; }

 private:
  OtherHost() = default;
  pid_t holder_ = -1;
  std::string netns_, host_ip_, peer_ip_;
};

class TcpServer {
 public:
  // Listens on `ip`:0 in `netns` ("" = this namespace) and writes `reply`
  // to every connection. port() is 0 if it could not listen.
  TcpServer(const std::string& netns, const std::string& ip,
            std::string reply);
  ~TcpServer();
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  std::thread thread_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
};

}  // namespace pbrx::testing_util

#endif  // PBRX_TESTS_NETNS_PEER_H_
