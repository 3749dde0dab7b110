#include "coordinator/pipeline/step_runner.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

std::string Tail(const std::string& text, size_t lines) {
  std::vector<absl::string_view> all = absl::StrSplit(text, '\n');
  size_t start = all.size() > lines ? all.size() - lines : 0;
  return absl::StrJoin(all.begin() + start, all.end(), "\n");
}

}  // namespace

void StepRunner::AddStep(StepReport step) {
  if (options_.on_step) options_.on_step(step);
  absl::MutexLock lock(&mu_);
  steps_.push_back(std::move(step));
}

std::vector<StepReport> StepRunner::Steps() {
  absl::MutexLock lock(&mu_);
  return steps_;
}

void StepRunner::Progress(const std::string& what) {
  if (!options_.progress) return;
  int cached = 0, run = 0;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& s : steps_) {
      if (s.kind != "image-assembly") (s.cached ? cached : run)++;
    }
  }
  options_.progress(absl::StrCat(options_.label, ": ", cached, " cached, ", run,
                                 " run; ", what));
}

absl::StatusOr<Digest> StepRunner::PutAction(const ActionSpec& spec) {
  ASSIGN_OR_RETURN(MadeAction written, WriteAction(spec));
  return written.digest;
}

StepRunner::MadeAction StepRunner::MakeAction(const ActionSpec& spec) const {
  MadeAction out;
  re::Command& cmd = out.command;
  for (const auto& a : spec.argv) cmd.add_arguments(a);
  std::map<std::string, std::string> env = spec.env;
  env.emplace("PATH", kDefaultPath);
  env.emplace("HOME", "/tmp");
  env.emplace("LANG", "C.UTF-8");
  // Wheels are ZIP files, which cannot hold times before 1980: build
  // backends (hatchling, flit) refuse an earlier SOURCE_DATE_EPOCH.
  constexpr int64_t kZipEpoch = 315532800;  // 1980-01-01T00:00:00Z
  env["SOURCE_DATE_EPOCH"] =
      absl::StrCat(std::max(options_.source_date_epoch, kZipEpoch));
  if (!spec.credentials.empty())
    env["PBRX_CREDENTIALS_ID"] = common::CredentialsId(spec.credentials);
  for (const auto& [k, v] : env) {
    auto* ev = cmd.add_environment_variables();
    ev->set_name(k);
    ev->set_value(v);
  }
  for (const auto& o : spec.output_files) cmd.add_output_files(o);
  for (const auto& o : spec.output_dirs) cmd.add_output_directories(o);
  re::Action& action = out.action;
  *action.mutable_command_digest() =
      Digest::Of(cmd.SerializeAsString()).ToProto();
  *action.mutable_input_root_digest() = spec.input_root.ToProto();
  action.set_do_not_cache(spec.do_not_cache);
  auto props = spec.platform;
  if (!options_.platform.empty() &&
      std::any_of(props.begin(), props.end(),
                  [](const auto& p) { return p.first == "rootfs"; })) {
    props.emplace_back("platform", options_.platform);
  }
  std::sort(props.begin(), props.end());
  for (const auto& [k, v] : props) {
    auto* p = action.mutable_platform()->add_properties();
    p->set_name(k);
    p->set_value(v);
  }
  out.digest = Digest::Of(action.SerializeAsString());
  return out;
}

absl::Status StepRunner::Upload(const MadeAction& made) {
  // One batch: the Command, then the Action.
  const std::string command = made.command.SerializeAsString();
  const std::string action = made.action.SerializeAsString();
  const cache::BlobBytes blobs[] = {{Digest::Of(command), command},
                                    {made.digest, action}};
  return cas_.WriteBlobs(blobs);
}

absl::StatusOr<StepRunner::MadeAction> StepRunner::WriteAction(
    const ActionSpec& spec) {
  MadeAction out = MakeAction(spec);
  RETURN_IF_ERROR(Upload(out));
  return out;
}

absl::StatusOr<re::ActionResult> StepRunner::Step(const std::string& kind,
                                                  const std::string& name,
                                                  const ActionSpec& spec) {
  const MadeAction made = MakeAction(spec);
  const Digest& action = made.digest;
  absl::Time start = absl::Now();
  Progress(absl::StrCat("running ", kind, " ", name));
  if (options_.on_step_start) options_.on_step_start(kind, name);
  common::ExecuteOptions run_options;
  run_options.kind = kind;
  run_options.credentials = spec.credentials;
  run_options.action = &made.action;
  run_options.command = &made.command;
  // The farm writes the messages only when the step really runs: a cache
  // hit or a run in flight (another project's) needs neither.
  if (executor_.TakesDeferredUploads()) {
    run_options.upload = [this, &made]() { return Upload(made); };
  } else {
    RETURN_IF_ERROR(Upload(made));
  }
  ASSIGN_OR_RETURN(common::ActionOutcome out,
                   executor_.Run(action, run_options));
  StepReport step{kind, name, out.cached,
                  absl::ToDoubleSeconds(absl::Now() - start),
                  action.ToString()};
  step.joined = out.joined;
  step.failed = !out.status.ok() || out.result.exit_code() != 0;
  step.argv = spec.argv;
  step.platform = spec.platform;
  step.input_root = spec.input_root.ToString();
  AddStep(std::move(step));
  if (!out.status.ok() || out.result.exit_code() != 0) {
    std::string log;
    for (const re::Digest* d :
         {&out.result.stdout_digest(), &out.result.stderr_digest()}) {
      absl::StatusOr<Digest> dd = Digest::FromProto(*d);
      if (dd.ok()) log += cache::ReadBlob(cas_, *dd).value_or("");
    }
    return absl::AbortedError(absl::StrCat(
        "step ", kind, " (", name, ") failed: ",
        out.status.ok() ? absl::StrCat("exit ", out.result.exit_code())
                        : std::string(out.status.message()),
        "\n  command: ", absl::StrJoin(spec.argv, " "),
        "\n  log (last lines):\n", Tail(log, 20)));
  }
  return out.result;
}

absl::StatusOr<Digest> StepRunner::OutputFile(const re::ActionResult& r,
                                              const std::string& path) {
  for (const auto& f : r.output_files()) {
    if (f.path() == path) return Digest::FromProto(f.digest());
  }
  return absl::InternalError(absl::StrCat("step produced no ", path));
}

absl::StatusOr<common::oci::Layer> StepRunner::LayerOutputs(
    const re::ActionResult& r, const std::string& blob_path,
    const std::string& diff_id_path) {
  common::oci::Layer layer;
  ASSIGN_OR_RETURN(layer.digest, OutputFile(r, blob_path));
  ASSIGN_OR_RETURN(Digest diff_blob, OutputFile(r, diff_id_path));
  ASSIGN_OR_RETURN(std::string diff, cache::ReadBlob(cas_, diff_blob));
  ASSIGN_OR_RETURN(layer.diff_id, common::oci::ParseDiffId(diff));
  return layer;
}

absl::StatusOr<common::oci::Layer> StepRunner::CapturedLayer(
    const re::ActionResult& r) {
  return LayerOutputs(r, "rootfs-diff.tar.gz", "rootfs-diff.diff_id");
}

absl::StatusOr<std::pair<std::string, Digest>> StepRunner::SingleWheel(
    const re::ActionResult& r) {
  if (r.output_directories_size() != 1) {
    return absl::InternalError("the wheel step produced no output directory");
  }
  ASSIGN_OR_RETURN(Digest tree_digest,
                   Digest::FromProto(r.output_directories(0).tree_digest()));
  ASSIGN_OR_RETURN(std::string tree_bytes, cache::ReadBlob(cas_, tree_digest));
  re::Tree tree;
  if (!tree.ParseFromString(tree_bytes))
    return absl::InternalError("malformed output tree");
  for (const auto& f : tree.root().files()) {
    if (absl::EndsWith(f.name(), ".whl")) {
      ASSIGN_OR_RETURN(Digest d, Digest::FromProto(f.digest()));
      return std::make_pair(f.name(), d);
    }
  }
  return absl::InternalError("the wheel step produced no .whl");
}

absl::StatusOr<std::string> StepRunner::Probe(
    const std::string& kind, const std::string& name, const std::string& script,
    const std::string& rootfs, const std::string& output, int64_t max_bytes) {
  ActionSpec probe;
  probe.argv = {"python3", "-c", script};
  ASSIGN_OR_RETURN(probe.input_root, EmptyDir());
  probe.output_files = {output};
  probe.platform = {{"rootfs", rootfs}};
  ASSIGN_OR_RETURN(re::ActionResult result, Step(kind, name, probe));
  ASSIGN_OR_RETURN(Digest file, OutputFile(result, output));
  if (file.size() > max_bytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("step ", kind, " ", name, ": ", output, " is ",
                     file.size(), " bytes, over the limit of ", max_bytes));
  }
  return cache::ReadBlob(cas_, file);
}

absl::StatusOr<Digest> StepRunner::EmptyDir() {
  return cache::WriteBlob(cas_, re::Directory().SerializeAsString());
}

absl::StatusOr<Digest> StepRunner::Wrap(const std::string& name,
                                        const Digest& child) {
  re::Directory d;
  auto* n = d.add_directories();
  n->set_name(name);
  *n->mutable_digest() = child.ToProto();
  return cache::WriteBlob(cas_, d.SerializeAsString());
}

}  // namespace pbrx::coordinator
