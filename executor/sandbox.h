// Sandbox: runs one command isolated from the host, for one step of a build.
// The command sees a read-only root (a given root filesystem directory, or
// the host's tools only), a writable /work (given to the sandbox's root), a
// private /tmp, no network unless asked, no capabilities, and limits on
// memory, processes and wall time. Its ids are not the host's: root inside
// is an unprivileged host id.
// A command that exits non-zero (or is killed by a limit) is a result, not
// an error; errors mean the sandbox itself could not run.
#ifndef PBRX_EXECUTOR_SANDBOX_H_
#define PBRX_EXECUTOR_SANDBOX_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pbrx::executor {

struct SandboxSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH inside
  std::map<std::string, std::string>
      env;  // the whole environment (PATH included)
  // Directory mounted as / (read-only). Empty: the host's /usr (and the
  // usual /bin, /lib symlinks) read-only, nothing else of the host.
  std::string rootfs;
  // Mount the root read-write (for package-manager steps writing into an
  // overlay's merged directory).
  bool writable_root = false;
  // Host directory mounted writable at /work.
  std::string work_dir;
  // Working directory relative to /work ("" = /work itself).
  std::string working_directory;
  // Extra read-only binds: host path -> path inside.
  std::map<std::string, std::string> ro_binds;
  // Files made from bytes, never written to the host's disk (secrets such
  // as a netrc): path inside, a plain name directly under /tmp -> content.
  // Read-only, readable by the step's own ids. At most 4, 32 KiB in all.
  std::map<std::string, std::string> data_files;
  // false: only a private loopback. true: the outside, through the
  // sandbox's own network namespace (EgressNetwork) unless the sandbox is
  // configured to share the host's (tests of other parts only).
  bool network = false;
  // A host directory for the sandbox's own files (never visible inside),
  // e.g. slirp4netns' log; "" = a temporary one.
  std::string scratch_dir;
  // Keep the capabilities dpkg/apt use (chown, dac_override, fowner,
  // fsetid, setuid, setgid, kill) for the command, which runs as root of
  // its user namespace like every command: they apply to the sandbox's own
  // ids only (executor/sandbox_ids.h), never to a host file. Seccomp still
  // refuses mount and friends.
  bool package_manager = false;
  // Also keep CAP_SYS_CHROOT: mmdebstrap's root mode chroots into the tree
  // it builds under /work (the debian-base step tool only).
  bool chroot = false;
  absl::Duration timeout = absl::Minutes(30);
  int64_t memory_bytes = 0;  // 0: no limit
  int64_t max_pids = 0;      // 0: no limit
  int64_t tmp_bytes = 0;     // size of the /tmp tmpfs; 0: the kernel default
  // Where stdout and stderr go (files on the host); empty: discarded.
  std::string stdout_path;
  std::string stderr_path;
  // Polled while the command runs: once it reads true, the command is
  // killed (result.cancelled). Optional; must outlive Run().
  const std::atomic<bool>* cancel = nullptr;
};

struct SandboxResult {
  int exit_code = -1;   // valid when the command exited
  int term_signal = 0;  // when it was killed by a signal
  bool timed_out = false;
  bool cancelled = false;
  bool memory_exceeded = false;
  bool pids_exceeded = false;
  absl::Duration wall_time;
  // The limits the command ran under (from the spec), for Describe().
  absl::Duration timeout_limit;
  int64_t memory_limit = 0;
  int64_t pids_limit = 0;
  // A one-line account naming the limit that ended it: "exit 0",
  // "killed: memory limit (256 MiB) exceeded", "killed: wall-time limit
  // (1m30s) exceeded", "exit 1 (process limit 64 reached)", ...
  std::string Describe() const;
  bool ok() const { return exit_code == 0 && !timed_out && term_signal == 0; }
};

class Sandbox {
 public:
  virtual ~Sandbox() = default;
  // Runs the command to completion. INVALID_ARGUMENT for a bad spec,
  // UNAVAILABLE if the sandbox cannot be set up. Thread-safe.
  virtual absl::StatusOr<SandboxResult> Run(const SandboxSpec& spec) = 0;
};

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_SANDBOX_H_
