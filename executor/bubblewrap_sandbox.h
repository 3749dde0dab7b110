// BubblewrapSandbox: the Sandbox on bubblewrap (bwrap). Isolation: all
// namespaces unshared (network kept only when asked), --cap-drop ALL,
// --die-with-parent, --new-session, a cleared environment, a seccomp filter
// that refuses mount, unshare, setns, ptrace, bpf, kexec, module loading,
// keyrings, reboot, swap and pivot_root. Limits: memory and pids through a
// cgroup v1 child group of this process's own (when writable), else
// RLIMIT_AS/RLIMIT_NPROC; wall time by killing the process group.
#ifndef PBRX_EXECUTOR_BUBBLEWRAP_SANDBOX_H_
#define PBRX_EXECUTOR_BUBBLEWRAP_SANDBOX_H_

#include <atomic>
#include <memory>
#include <string>

#include "executor/sandbox.h"

namespace pbrx::executor {

struct BubblewrapOptions {
  std::string bwrap = "/usr/bin/bwrap";
  // Root of the cgroup v1 hierarchy; tests point it elsewhere to force the
  // rlimit fallback.
  std::string cgroup_root = "/sys/fs/cgroup";
  bool seccomp = true;
};

class BubblewrapSandbox : public Sandbox {
 public:
  // UNAVAILABLE if bwrap is not there.
  static absl::StatusOr<std::unique_ptr<BubblewrapSandbox>> Create(
      const BubblewrapOptions& options);

  absl::StatusOr<SandboxResult> Run(const SandboxSpec& spec) override;

  // Whether memory/pids limits use cgroups (else rlimits).
  bool uses_cgroups() const {
    return !memory_cgroup_.empty() && !pids_cgroup_.empty();
  }

 private:
  explicit BubblewrapSandbox(const BubblewrapOptions& options)
      : options_(options) {}
  std::vector<std::string> BuildArgs(const SandboxSpec& spec,
                                     int seccomp_fd) const;

  BubblewrapOptions options_;
  std::string memory_cgroup_;  // this process's memory cgroup dir, if writable
  std::string pids_cgroup_;
  std::atomic<int64_t> next_id_{0};
};

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_BUBBLEWRAP_SANDBOX_H_
