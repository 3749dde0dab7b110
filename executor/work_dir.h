// The executor's work directory at start: created 0700 (extracted layers
// and actions' work dirs are nobody else's business), refused when it is a
// symlink or owned by another user (who could then plant files and
// symlinks into what the executor trusts), tightened to 0700 when it is
// ours but open to others, and with the run directories a previous process
// left behind (a crash, kill -9) removed.
#ifndef PBRX_EXECUTOR_WORK_DIR_H_
#define PBRX_EXECUTOR_WORK_DIR_H_

#include <string>

#include "absl/status/status.h"

namespace pbrx::executor {

// Prepares `dir` and `dir/runs` as described above. FAILED_PRECONDITION
// naming the directory and the reason when it cannot be trusted; INTERNAL
// when it cannot be created.
absl::Status PrepareWorkDir(const std::string& dir);

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_WORK_DIR_H_
