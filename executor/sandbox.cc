#include "executor/sandbox.h"

#include "absl/strings/str_cat.h"

namespace pbrx::executor {

std::string SandboxResult::Describe() const {
  if (cancelled) return "killed: cancelled";
  if (timed_out) {
    return absl::StrCat("killed: wall-time limit (",
                        absl::FormatDuration(timeout_limit), ") exceeded");
  }
  if (memory_exceeded) {
    return absl::StrCat("killed: memory limit (", memory_limit >> 20,
                        " MiB) exceeded");
  }
  if (pids_exceeded && exit_code != 0) {
    return absl::StrCat("exit ", exit_code, " (process limit ", pids_limit,
                        " reached)");
  }
  if (term_signal != 0) return absl::StrCat("killed by signal ", term_signal);
  return absl::StrCat("exit ", exit_code);
}

}  // namespace pbrx::executor
