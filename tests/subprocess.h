// Subprocess: starts a real binary for integration tests, reads the first
// line it prints on stdout (our daemons print their bound address there),
// and stops it by PID (SIGTERM for a graceful stop, SIGKILL for a crash).
// The destructor kills and reaps whatever is still running.
#ifndef PBRX_TESTS_SUBPROCESS_H_
#define PBRX_TESTS_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pbrx::testing_util {

class Subprocess {
 public:
  Subprocess() = default;
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Starts argv[0] with the arguments; stderr goes to `stderr_path` (or is
  // inherited when empty).
  absl::Status Start(const std::vector<std::string>& argv,
                     const std::string& stderr_path = "");
  // Waits (bounded) for the first stdout line, without the newline.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  // Sends `signal` and waits (bounded) for the exit; returns the wait status.
  absl::StatusOr<int> Stop(int signal, absl::Duration timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
};

// Path of a data dependency inside the test's runfiles
// ("cache/pbrx-cache").
std::string RunfilePath(const std::string& workspace_relative);

}  // namespace pbrx::testing_util

#endif  // PBRX_TESTS_SUBPROCESS_H_
