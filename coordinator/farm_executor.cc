#include "coordinator/farm_executor.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "cache/directory_tree.h"
#include "common/missing_blobs.h"
#include "common/status_macros.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

}  // namespace

absl::StatusOr<AdmittedAction> AdmitAction(cache::BlobStore& cas,
                                           const Digest& action_digest,
                                           const re::Action* known_action,
                                           const re::Command* known_command) {
  AdmittedAction out;
  ASSIGN_OR_RETURN(out.action,
                   cache::KnownOrReadProtoBlob(cas, action_digest.ToProto(),
                                               known_action, "action"));
  ASSIGN_OR_RETURN(re::Command command,
                   cache::KnownOrReadProtoBlob(cas, out.action.command_digest(),
                                               known_command, "command"));
  ASSIGN_OR_RETURN(const Digest command_digest,
                   Digest::FromProto(out.action.command_digest()));
  if (command.arguments_size() == 0) {
    return absl::InvalidArgumentError("the command has no arguments");
  }
  // REAPI >= 2.2 puts the platform on the Action; older clients on the
  // Command.
  const re::Platform& platform =
      out.action.has_platform() ? out.action.platform() : command.platform();
  for (const auto& p : platform.properties())
    out.submit.platform.emplace_back(p.name(), p.value());
  if (out.action.has_timeout()) {
    out.submit.timeout = absl::Seconds(out.action.timeout().seconds()) +
                         absl::Nanoseconds(out.action.timeout().nanos());
  }
  out.submit.do_not_cache = out.action.do_not_cache();
  // The input tree: every Directory readable, every file present.
  std::vector<Digest> missing;
  // What an executor will fetch: the Action, the Command, every Directory
  // and file. One presence check for all, right before the action is
  // queued; the messages may have come from the caller or from memory.
  std::vector<Digest> present = {action_digest, command_digest};
  std::deque<re::Digest> todo = {out.action.input_root_digest()};
  std::set<std::string> seen;
  while (!todo.empty()) {
    re::Digest next = todo.front();
    todo.pop_front();
    absl::StatusOr<Digest> parsed = Digest::FromProto(next);
    if (!parsed.ok()) return common::Annotate(parsed.status(), "input root");
    Digest d = *parsed;
    if (!seen.insert(d.ToString()).second) continue;
    RETURN_IF_ERROR(cache::CheckMessageBlobSize(d, "input directory"));
    absl::StatusOr<std::string> bytes = cache::ReadBlob(cas, d);
    if (bytes.status().code() == absl::StatusCode::kNotFound) {
      missing.push_back(d);
      continue;
    }
    if (!bytes.ok()) return bytes.status();
    // Read from memory perhaps (cache/small_blob_cache.h): its presence is
    // checked with the files below.
    present.push_back(d);
    re::Directory dir;
    if (!dir.ParseFromString(*bytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("input directory ", d.ToString(), " does not parse"));
    }
    for (const auto& f : dir.files()) {
      absl::StatusOr<Digest> fd = Digest::FromProto(f.digest());
      if (!fd.ok()) {
        return common::Annotate(fd.status(),
                                absl::StrCat("input file ", f.name()));
      }
      present.push_back(*fd);
    }
    for (const auto& sub : dir.directories()) todo.push_back(sub.digest());
  }
  ASSIGN_OR_RETURN(std::vector<Digest> absent, cas.FindMissing(present));
  missing.insert(missing.end(), absent.begin(), absent.end());
  if (!missing.empty()) {
    return common::MissingBlobsError(missing, "the action's inputs");
  }
  if (out.action.ByteSizeLong() + command.ByteSizeLong() <=
      kMaxLeaseMessageBytes) {
    out.submit.messages = std::make_shared<const ActionMessages>(
        ActionMessages{out.action, command});
  }
  return out;
}

common::ActionOutcome CachedOutcome(const re::ActionResult& result) {
  common::ActionOutcome o;
  o.result = result;
  o.cached = true;
  return o;
}

absl::StatusOr<common::ActionOutcome> FarmExecutor::Run(
    const Digest& action_digest, const common::ExecuteOptions& options) {
  auto stopped = [this]() { return stop_ ? stop_() : absl::OkStatus(); };
  // A run of the same action in flight (another build's step) answers
  // this one too: no lookup, upload or admission for it.
  std::optional<Scheduler::Submitted> s =
      scheduler_->Join(action_digest, options.skip_cache_lookup, options.kind);
  if (!s.has_value()) {
    if (!options.skip_cache_lookup) {
      absl::StatusOr<re::ActionResult> hit = ac_->Get(action_digest);
      if (hit.ok()) {
        metrics_->CacheHit(options.kind, ResultBytes(*hit));
        return CachedOutcome(*hit);
      }
      if (hit.status().code() != absl::StatusCode::kNotFound)
        return hit.status();
    }
    if (options.upload) RETURN_IF_ERROR(options.upload());
    ASSIGN_OR_RETURN(
        AdmittedAction admitted,
        AdmitAction(*cas_, action_digest, options.action, options.command));
    SubmitOptions submit = admitted.submit;
    submit.group = group_;
    submit.skip_cache_lookup = options.skip_cache_lookup;
    submit.kind = options.kind;
    submit.credentials = options.credentials;
    RETURN_IF_ERROR(stopped());
    s = scheduler_->Submit(action_digest, submit);
  }
  // Wait in one-second slices, so a stopped build stops waiting.
  absl::Status stop = absl::OkStatus();
  while (s->op->stage() != Stage::kCompleted) {
    stop = stopped();
    if (!stop.ok()) break;
    s->op->Wait(absl::Now() + absl::Seconds(1)).status().IgnoreError();
  }
  scheduler_->Release(s->op);
  if (!stop.ok()) return stop;
  absl::StatusOr<common::ActionOutcome> out = s->op->outcome();
  if (s->joined && out.ok()) {
    out->joined = true;
    metrics_->AddDeduplicatedBytes(ResultBytes(out->result));
  }
  return out;
}

}  // namespace pbrx::coordinator
