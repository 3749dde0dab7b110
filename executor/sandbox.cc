#include "executor/sandbox.h"

#include "absl/strings/str_cat.h"

namespace pbrx::executor {

std::string SandboxResult::Describe() const {
  if (cancelled) return "killed: cancelled";
  if (timed_out)
    return absl::StrCat("killed: wall-time limit exceeded after ",
                        absl::FormatDuration(wall_time));
  if (memory_exceeded) return "killed: memory limit exceeded";
  if (pids_exceeded && exit_code != 0) {
    return absl::StrCat("exit ", exit_code, " (process limit reached)");
  }
  if (term_signal != 0) return absl::StrCat("killed by signal ", term_signal);
  return absl::StrCat("exit ", exit_code);
}

}  // namespace pbrx::executor
