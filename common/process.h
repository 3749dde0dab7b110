// RunProcess: starts a host program from an argv vector (never through a
// shell: no text is ever interpreted), with a clean environment given by the
// caller, its own process group, stdin from /dev/null or a file, stdout and
// stderr appended to one log file, every other descriptor closed, and a
// wall-time limit after which the whole group is killed. For the few host tools
// the farm runs outside a sandbox (mmdebstrap); build steps run in sandboxes
// (executor/sandbox.h) instead.
//
// It does not capture output into memory (read the log file, e.g. with
// ReadTail) and does not search PATH beyond the given environment's PATH.
#ifndef PBRX_COMMON_PROCESS_H_
#define PBRX_COMMON_PROCESS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pbrx::common {

struct ProcessOptions {
  // The child's whole environment (nothing is inherited). PATH, if given, is
  // where argv[0] is looked up when it has no '/'.
  std::map<std::string, std::string> env;
  // stdout and stderr are appended here ("" = /dev/null).
  std::string log_path;
  // Instead: both go to this process's stderr (a step tool's log).
  bool log_to_stderr = false;
  // The child's stdin is this file ("" = /dev/null).
  std::string stdin_path;
  // Working directory ("" = the caller's).
  std::string cwd;
  absl::Duration timeout = absl::Hours(1);
};

struct ProcessResult {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it
  bool timed_out = false;
  // "exit 3", "killed by signal 9", "timed out after 1h (killed)".
  std::string Describe() const;
  bool ok() const { return exit_code == 0 && signal == 0 && !timed_out; }
};

// Runs argv to its end. INVALID_ARGUMENT for an empty argv or an argument
// holding a NUL byte; NOT_FOUND when argv[0] cannot be executed (with the
// OS's reason); INTERNAL if the log cannot be opened or fork fails. A
// program that runs and fails is a result, not an error.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const ProcessOptions& options);

// The last `lines` lines of a text file (at most its last 64 KiB), "" if it
// cannot be read. For log excerpts in error messages.
std::string ReadTail(const std::string& path, int lines);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_PROCESS_H_
