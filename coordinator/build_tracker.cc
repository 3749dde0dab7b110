#include "coordinator/build_tracker.h"

#include "absl/strings/str_cat.h"

namespace pbrx::coordinator {

void BuildTracker::Started(const std::string& id, const std::string& peer,
                           const std::vector<std::string>& dirs,
                           absl::Time now) {
  TrackedBuild b;
  b.id = id;
  b.peer = peer;
  b.started = now;
  for (const std::string& d : dirs) b.projects.push_back({d});
  absl::MutexLock lock(&mu_);
  builds_[id] = std::move(b);
}

void BuildTracker::StepStarted(const std::string& id, size_t project,
                               const std::string& kind,
                               const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = builds_.find(id);
  if (it == builds_.end() || project >= it->second.projects.size()) return;
  TrackedProject& p = it->second.projects[project];
  p.state = "running";
  p.current = absl::StrCat(kind, " ", name);
}

void BuildTracker::StepFinished(const std::string& id, size_t project,
                                const StepReport& step) {
  absl::MutexLock lock(&mu_);
  auto it = builds_.find(id);
  if (it == builds_.end() || project >= it->second.projects.size()) return;
  TrackedProject& p = it->second.projects[project];
  if (step.kind != "image-assembly" && !step.joined)
    (step.cached ? p.cached : p.run)++;
}

void BuildTracker::ProjectFinished(const std::string& id, size_t project,
                                   const absl::Status& result, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = builds_.find(id);
  if (it == builds_.end() || project >= it->second.projects.size()) return;
  TrackedProject& p = it->second.projects[project];
  p.current.clear();
  p.state = result.ok() ? "done" : "failed";
  if (!result.ok()) {
    failures_.push_front(
        TrackedFailure{now, id, p.dir, std::string(result.message())});
    while (failures_.size() > max_failures_) failures_.pop_back();
  }
}

void BuildTracker::Finished(const std::string& id) {
  absl::MutexLock lock(&mu_);
  builds_.erase(id);
}

std::vector<TrackedBuild> BuildTracker::Builds() {
  absl::MutexLock lock(&mu_);
  std::vector<TrackedBuild> out;
  for (const auto& [id, b] : builds_) out.push_back(b);
  return out;
}

std::vector<TrackedFailure> BuildTracker::Failures() {
  absl::MutexLock lock(&mu_);
  return {failures_.begin(), failures_.end()};
}

}  // namespace pbrx::coordinator
