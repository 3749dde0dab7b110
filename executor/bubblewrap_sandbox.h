// BubblewrapSandbox: the Sandbox on bubblewrap (bwrap). Isolation: all
// namespaces unshared (network kept only when asked), a user namespace of
// the sandbox's own mapped to SandboxIds (executor/sandbox_ids.h: the
// command's root is an unprivileged host id), --cap-drop ALL,
// --die-with-parent, --new-session, a cleared environment, the seccomp filter
// of executor/seccomp_filter.h (mounts, namespaces, ptrace, bpf, perf, kexec,
// modules, keyrings, io_uring, userfaultfd, ... refused). Limits: memory and
// pids through a child cgroup of this process's own: cgroup v1 (the memory and
// pids controllers, when writable), else cgroup v2 (memory.max,
// memory.swap.max, pids.max, when this process's cgroup delegates the memory
// and pids controllers to its children, after moving this process into a leaf
// "pbrx-main" of its cgroup when that is what delegation needs), else
// RLIMIT_AS/RLIMIT_NPROC (uses_cgroups() tells; pbrx-executor refuses to start
// that way unless told); wall time by killing the process group.
#ifndef PBRX_EXECUTOR_BUBBLEWRAP_SANDBOX_H_
#define PBRX_EXECUTOR_BUBBLEWRAP_SANDBOX_H_

#include <atomic>
#include <memory>
#include <string>

#include "executor/egress_network.h"
#include "executor/sandbox.h"
#include "executor/sandbox_ids.h"

namespace pbrx::executor {

struct BubblewrapOptions {
  std::string bwrap = "/usr/bin/bwrap";
  // Root of the cgroup v1 hierarchy; tests point it elsewhere to force the
  // rlimit fallback.
  std::string cgroup_root = "/sys/fs/cgroup";
  // The cgroup v2 mount ("/sys/fs/cgroup" on a unified host,
  // "/sys/fs/cgroup/unified" on a hybrid one) and where this process's
  // cgroups are listed; tests point both at a directory laid out like a
  // cgroup2 mount.
  std::string cgroup2_root = "/sys/fs/cgroup";
  std::string proc_self_cgroup = "/proc/self/cgroup";
  // Tests only: cgroup2_root is a plain directory standing in for a cgroup2
  // mount (files are created; otherwise the root must be a real cgroup2
  // filesystem and nothing is ever created in it).
  bool cgroup2_plain_dir_for_tests = false;
  bool seccomp = true;
  // network=egress: a network namespace of the sandbox's own with
  // slirp4netns and denied routes (executor/egress_network.h). false shares
  // the host's network namespace (only for hosts that cannot run
  // slirp4netns; pbrx-executor --egress-isolation=false, documented as
  // unsafe).
  bool isolate_egress = true;
  EgressOptions egress;
  // The host ids the sandbox's ids 0..count-1 map to.
  SandboxIds ids;
};

class BubblewrapSandbox : public Sandbox {
 public:
  // UNAVAILABLE if bwrap is not there or user namespaces cannot be made.
  static absl::StatusOr<std::unique_ptr<BubblewrapSandbox>> Create(
      const BubblewrapOptions& options);

  absl::StatusOr<SandboxResult> Run(const SandboxSpec& spec) override;

  // Whether memory/pids limits use cgroups (else rlimits), and which.
  bool uses_cgroups() const {
    return (!memory_cgroup_.empty() && !pids_cgroup_.empty()) ||
           !cgroup2_.empty();
  }
  bool uses_cgroup2() const { return !cgroup2_.empty(); }

 private:
  explicit BubblewrapSandbox(const BubblewrapOptions& options)
      : options_(options) {}
  // Where the child binds the spec's host directories for bwrap.
  struct StagedBinds {
    std::string rootfs, work_dir;
    std::vector<std::pair<std::string, std::string>> ro_binds;  // -> inside
    std::vector<std::pair<std::string, std::string>> data_files;  // same
  };
  std::vector<std::string> BuildArgs(const SandboxSpec& spec,
                                     const StagedBinds& binds, bool seccomp,
                                     bool egress) const;

  BubblewrapOptions options_;
  std::string memory_cgroup_;  // this process's memory cgroup dir, if writable
  std::string pids_cgroup_;
  std::string cgroup2_;  // this process's v2 cgroup, when v1 is not usable
  std::atomic<int64_t> next_id_{0};
};

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_BUBBLEWRAP_SANDBOX_H_
