// What the coordinator's builds are doing, for the status page: builds in
// flight with their projects (waiting, running the step ..., done, failed)
// and step counts, and the last failures with their messages (which end
// with the failed step's log tail). Thread-safe.
#ifndef PBRX_COORDINATOR_BUILD_TRACKER_H_
#define PBRX_COORDINATOR_BUILD_TRACKER_H_

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "coordinator/pipeline/step_report.h"

namespace pbrx::coordinator {

struct TrackedProject {
  std::string dir;
  std::string state = "waiting";  // waiting, running, done, failed
  std::string current;            // "KIND NAME" of the step running
  int cached = 0, run = 0;        // steps so far
};

struct TrackedBuild {
  std::string id;    // also its fairness group in the scheduler
  std::string peer;  // the client
  absl::Time started;
  std::vector<TrackedProject> projects;
};

struct TrackedFailure {
  absl::Time when;
  std::string build, dir;
  std::string message;  // with the step's log tail
};

class BuildTracker {
 public:
  explicit BuildTracker(size_t max_failures = 20)
      : max_failures_(max_failures) {}

  void Started(const std::string& id, const std::string& peer,
               const std::vector<std::string>& dirs, absl::Time now);
  void StepStarted(const std::string& id, size_t project,
                   const std::string& kind, const std::string& name);
  void StepFinished(const std::string& id, size_t project,
                    const StepReport& step);
  // `result`: OK, or why the project failed.
  void ProjectFinished(const std::string& id, size_t project,
                       const absl::Status& result, absl::Time now);
  void Finished(const std::string& id);

  std::vector<TrackedBuild> Builds();
  // Newest first.
  std::vector<TrackedFailure> Failures();

 private:
  const size_t max_failures_;
  absl::Mutex mu_;
  std::map<std::string, TrackedBuild> builds_ ABSL_GUARDED_BY(mu_);
  std::deque<TrackedFailure> failures_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_BUILD_TRACKER_H_
