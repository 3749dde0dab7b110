// How `pbrx build-images` shows a build while it runs (--progress, as
// docker buildx does):
//   tty    one status line per project, redrawn (the default on a terminal)
//   plain  a timestamped line when a step starts, is answered from the
//          cache, finishes or fails (with its duration), and per project;
//          the default off a terminal, so a CI log shows a cold minute
//   json   one JSON object per event on stderr (the default with --json):
//          {"event":"step_started"|"step"|"project", ...}
#ifndef PBRX_CLIENT_PROGRESS_H_
#define PBRX_CLIENT_PROGRESS_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "coordinator/build_report.h"

namespace pbrx::client {

enum class ProgressMode { kTty, kPlain, kJson };

// "auto" picks json with --json, else tty on a terminal, else plain.
absl::StatusOr<ProgressMode> ParseProgressMode(const std::string& text,
                                               bool json, bool stderr_is_tty);

// Writes plain and json events (tty is drawn by the build's own status
// line). Thread-safe: projects build in parallel.
class ProgressPrinter {
 public:
  // `dirs`: the projects as named on the command line; `now` gives the
  // timestamps (injected for tests).
  ProgressPrinter(ProgressMode mode, std::ostream* err,
                  std::vector<std::string> dirs,
                  std::function<absl::Time()> now = absl::Now);

  ProgressMode mode() const { return mode_; }
  void StepStarted(size_t project, const std::string& kind,
                   const std::string& name);
  void StepFinished(size_t project, const coordinator::StepReport& step);
  // `cached` and `run`: the project's step counts (the farm sends them;
  // embedded mode counts build->steps).
  void ProjectFinished(size_t project,
                       const absl::StatusOr<coordinator::ProjectBuild>& build,
                       int cached, int run);

 private:
  void Line(size_t project, const std::string& text)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ProgressMode mode_;
  std::ostream* err_;
  const std::vector<std::string> dirs_;
  std::function<absl::Time()> now_;
  absl::Mutex mu_;
};

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_PROGRESS_H_
