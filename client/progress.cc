#include "client/progress.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json_writer.h"

namespace pbrx::client {

absl::StatusOr<ProgressMode> ParseProgressMode(const std::string& text,
                                               bool json, bool stderr_is_tty) {
  if (text == "auto") {
    if (json) return ProgressMode::kJson;
    return stderr_is_tty ? ProgressMode::kTty : ProgressMode::kPlain;
  }
  if (text == "tty") return ProgressMode::kTty;
  if (text == "plain") return ProgressMode::kPlain;
  if (text == "json") return ProgressMode::kJson;
  return absl::InvalidArgumentError(absl::StrCat(
      "--progress: '", text, "' is not one of auto, tty, plain, json"));
}

ProgressPrinter::ProgressPrinter(ProgressMode mode, std::ostream* err,
                                 std::vector<std::string> dirs,
                                 std::function<absl::Time()> now)
    : mode_(mode), err_(err), dirs_(std::move(dirs)), now_(std::move(now)) {}

void ProgressPrinter::Line(size_t project, const std::string& text) {
  *err_ << absl::FormatTime("%H:%M:%E3S", now_(), absl::UTCTimeZone()) << " "
        << (project < dirs_.size() ? dirs_[project] : "?") << ": " << text
        << "\n"
        << std::flush;
}

void ProgressPrinter::StepStarted(size_t project, const std::string& kind,
                                  const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (mode_ == ProgressMode::kPlain) {
    Line(project, absl::StrCat(kind, " ", name, ": started"));
  } else if (mode_ == ProgressMode::kJson) {
    common::JsonWriter w(/*pretty=*/false);
    w.BeginObject().Key("event").String("step_started");
    w.Key("dir").String(project < dirs_.size() ? dirs_[project] : "");
    w.Key("kind").String(kind).Key("name").String(name).EndObject();
    *err_ << w.str() << "\n" << std::flush;
  }
}

void ProgressPrinter::StepFinished(size_t project,
                                   const coordinator::StepReport& step) {
  absl::MutexLock lock(&mu_);
  if (mode_ == ProgressMode::kPlain) {
    std::string what = step.failed   ? "FAILED"
                       : step.cached ? "cached"
                       : step.joined ? "done (joined another build's run)"
                                     : "done";
    Line(project, absl::StrFormat("%s %s: %s in %.2fs", step.kind, step.name,
                                  what, step.seconds));
  } else if (mode_ == ProgressMode::kJson) {
    *err_ << coordinator::StepEventJson(
                 project < dirs_.size() ? dirs_[project] : "", step)
          << std::flush;
  }
}

void ProgressPrinter::ProjectFinished(
    size_t project, const absl::StatusOr<coordinator::ProjectBuild>& build,
    int cached, int run) {
  absl::MutexLock lock(&mu_);
  if (mode_ == ProgressMode::kPlain) {
    if (build.ok()) {
      Line(project, absl::StrCat(build->name, " ", build->version, ": ",
                                 build->images.size(), " image(s), ", cached,
                                 " step(s) cached, ", run, " run"));
    } else {
      Line(project, "failed");
    }
  } else if (mode_ == ProgressMode::kJson) {
    *err_ << coordinator::ProjectEventJson(
                 project < dirs_.size() ? dirs_[project] : "", build)
          << std::flush;
  }
}

}  // namespace pbrx::client
