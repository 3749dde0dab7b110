// StepRunner over an in-memory CAS and a scripted ActionExecutor: the
// Action it writes (fixed environment, sorted platform, outputs), what it
// reports, and how a failed step is described.
#include "coordinator/pipeline/step_runner.h"

#include <map>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/in_memory_blob_store.h"
#include "common/action_executor.h"
#include "common/status_macros.h"
#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

// Answers each Run with the next scripted outcome and remembers the calls.
class ScriptedExecutor : public common::ActionExecutor {
 public:
  std::vector<common::ActionOutcome> outcomes;
  std::vector<std::pair<Digest, std::string>> calls;  // action, kind
  absl::StatusOr<common::ActionOutcome> Run(
      const Digest& action, const common::ExecuteOptions& options) override {
    calls.emplace_back(action, options.kind);
    if (calls.size() > outcomes.size())
      return absl::InternalError("no scripted outcome left");
    return outcomes[calls.size() - 1];
  }
};

template <typename M>
M Read(cache::BlobStore& cas, const re::Digest& d) {
  M m;
  m.ParseFromString(cache::ReadBlob(cas, Digest::FromProto(d).value()).value());
  return m;
}

TEST(StepRunnerTest, TheActionCarriesTheStepAndTheReportNamesIt) {
  cache::InMemoryBlobStore cas;
  ScriptedExecutor executor;
  common::ActionOutcome ok;
  ok.cached = true;
  auto* f = ok.result.add_output_files();
  f->set_path("probe.json");
  *f->mutable_digest() = cache::WriteBlob(cas, "{}").value().ToProto();
  executor.outcomes = {ok};
  std::vector<StepReport> seen;
  std::vector<std::string> progress;
  StepRunnerOptions o;
  o.source_date_epoch = 1700000000;
  o.label = "proj";
  o.on_step = [&](const StepReport& s) { seen.push_back(s); };
  o.progress = [&](const std::string& p) { progress.push_back(p); };
  StepRunner steps(&cas, &executor, o);

  ActionSpec spec;
  spec.argv = {"python3", "-c", "print(1)"};
  spec.env = {{"EXTRA", "1"}};
  spec.input_root = steps.EmptyDir().value();
  spec.output_files = {"probe.json"};
  spec.platform = {{"rootfs", "sha256:x"}, {"capture", "outputs"}};
  auto r = steps.Step("base-probe", "base", spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(steps.OutputFile(*r, "probe.json").value(), Digest::Of("{}"));
  EXPECT_EQ(steps.OutputFile(*r, "other").status().message(),
            "step produced no other");

  ASSERT_EQ(executor.calls.size(), 1u);
  EXPECT_EQ(executor.calls[0].second, "base-probe");
  EXPECT_EQ(executor.calls[0].first, steps.PutAction(spec).value());
  auto action = Read<re::Action>(cas, executor.calls[0].first.ToProto());
  ASSERT_EQ(action.platform().properties_size(), 2);
  EXPECT_EQ(action.platform().properties(0).name(), "capture");  // sorted
  EXPECT_EQ(action.platform().properties(1).name(), "rootfs");
  auto command = Read<re::Command>(cas, action.command_digest());
  std::map<std::string, std::string> env;
  for (const auto& v : command.environment_variables())
    env[v.name()] = v.value();
  EXPECT_EQ(env, (std::map<std::string, std::string>{
                     {"EXTRA", "1"},
                     {"HOME", "/tmp"},
                     {"LANG", "C.UTF-8"},
                     {"PATH",
                      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/"
                      "sbin:/bin"},
                     {"SOURCE_DATE_EPOCH", "1700000000"}}));
  EXPECT_EQ(command.output_files(0), "probe.json");

  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, "base-probe");
  EXPECT_EQ(seen[0].name, "base");
  EXPECT_TRUE(seen[0].cached);
  EXPECT_EQ(seen[0].action, executor.calls[0].first.ToString());
  EXPECT_EQ(seen[0].argv, spec.argv);
  EXPECT_EQ(steps.Steps().size(), 1u);
  EXPECT_EQ(progress, std::vector<std::string>{
                          "proj: 0 cached, 0 run; running base-probe base"});
}

// An executor that takes deferred uploads (as the farm does): says
// whether the Action was in the CAS when it was called, and uploads only
// when told to.
class DeferringExecutor : public common::ActionExecutor {
 public:
  explicit DeferringExecutor(cache::BlobStore* cas) : cas_(*cas) {}
  bool TakesDeferredUploads() const override { return true; }
  absl::StatusOr<common::ActionOutcome> Run(
      const Digest& action, const common::ExecuteOptions& options) override {
    in_cas_at_call = cas_.FindMissing({action})->empty();
    had_upload = static_cast<bool>(options.upload);
    if (upload && options.upload) RETURN_IF_ERROR(options.upload());
    return common::ActionOutcome{};
  }
  bool upload = false;
  bool in_cas_at_call = true, had_upload = false;

 private:
  cache::BlobStore& cas_;
};

TEST(StepRunnerTest, AnExecutorThatTakesDeferredUploadsWritesOnlyWhenItRuns) {
  cache::InMemoryBlobStore cas;
  DeferringExecutor executor(&cas);
  StepRunner steps(&cas, &executor, {});
  ActionSpec spec;
  spec.argv = {"true"};
  spec.input_root = steps.EmptyDir().value();
  const StepRunner::MadeAction made = steps.MakeAction(spec);
  // A cache hit or a joined run: nothing written.
  ASSERT_TRUE(steps.Step("wheel-build", "x", spec).ok());
  EXPECT_FALSE(executor.in_cas_at_call);
  EXPECT_TRUE(executor.had_upload);
  const Digest command =
      Digest::FromProto(made.action.command_digest()).value();
  EXPECT_EQ(*cas.FindMissing({made.digest, command}),
            (std::vector<Digest>{made.digest, command}));
  // A run: the upload writes both messages, as PutAction would.
  executor.upload = true;
  ASSERT_TRUE(steps.Step("wheel-build", "x", spec).ok());
  EXPECT_TRUE(cas.FindMissing({made.digest})->empty());
  EXPECT_EQ(Read<re::Action>(cas, made.digest.ToProto()).SerializeAsString(),
            made.action.SerializeAsString());
  EXPECT_EQ(Read<re::Command>(cas, made.action.command_digest()).arguments(0),
            "true");
  EXPECT_EQ(steps.PutAction(spec).value(), made.digest);
  // An executor that does not take them gets the Action already written.
  ScriptedExecutor eager;
  eager.outcomes = {common::ActionOutcome{}};
  cache::InMemoryBlobStore fresh;
  StepRunner eager_steps(&fresh, &eager, {});
  spec.input_root = eager_steps.EmptyDir().value();
  ASSERT_TRUE(eager_steps.Step("wheel-build", "x", spec).ok());
  EXPECT_TRUE(fresh.FindMissing({eager.calls[0].first})->empty());
}

TEST(StepRunnerTest, AnotherPlatformIsAskedForByEveryStepOnARootfs) {
  cache::InMemoryBlobStore cas;
  ScriptedExecutor executor;
  StepRunnerOptions o;
  o.platform = "linux/arm64";
  StepRunner steps(&cas, &executor, o);
  ActionSpec on_rootfs;
  on_rootfs.argv = {"python3", "-c", "print(1)"};
  on_rootfs.input_root = steps.EmptyDir().value();
  on_rootfs.platform = {{"rootfs", "sha256:x"}};
  auto action = Read<re::Action>(cas, steps.PutAction(on_rootfs)->ToProto());
  ASSERT_EQ(action.platform().properties_size(), 2);
  EXPECT_EQ(action.platform().properties(0).name(), "platform");
  EXPECT_EQ(action.platform().properties(0).value(), "linux/arm64");
  // A step tool runs on the executor's own tools: no platform asked.
  ActionSpec tool = on_rootfs;
  tool.platform = {{"tools", "pbrx-1"}};
  action = Read<re::Action>(cas, steps.PutAction(tool)->ToProto());
  ASSERT_EQ(action.platform().properties_size(), 1);
  EXPECT_EQ(action.platform().properties(0).name(), "tools");
  // The default platform changes no key.
  StepRunner plain(&cas, &executor, {});
  EXPECT_NE(plain.PutAction(on_rootfs).value(),
            steps.PutAction(on_rootfs).value());
  EXPECT_EQ(Read<re::Action>(cas, plain.PutAction(on_rootfs)->ToProto())
                .platform()
                .properties_size(),
            1);
}

TEST(StepRunnerTest, AFailedStepIsOneErrorWithItsCommandAndLogTail) {
  cache::InMemoryBlobStore cas;
  ScriptedExecutor executor;
  common::ActionOutcome failed;
  failed.result.set_exit_code(2);
  std::string log;
  for (int i = 1; i <= 30; ++i) log += "line " + std::to_string(i) + "\n";
  *failed.result.mutable_stderr_digest() =
      cache::WriteBlob(cas, log).value().ToProto();
  common::ActionOutcome timed_out;
  timed_out.status = absl::DeadlineExceededError("timed out after 30m");
  executor.outcomes = {failed, timed_out};
  StepRunner steps(&cas, &executor, {});
  ActionSpec spec;
  spec.argv = {"pip", "wheel", "."};
  auto r = steps.Step("wheel-build", "x-1.0.tar.gz", spec);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  std::string tail;
  for (int i = 12; i <= 30; ++i) tail += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(r.status().message(),
            "step wheel-build (x-1.0.tar.gz) failed: exit 2\n  command: pip "
            "wheel .\n  log (last lines):\n" +
                tail);
  r = steps.Step("wheel-build", "y", spec);
  EXPECT_EQ(r.status().message(),
            "step wheel-build (y) failed: timed out after 30m\n  command: pip "
            "wheel .\n  log (last lines):\n");
  // Both are in the report, not cached.
  ASSERT_EQ(steps.Steps().size(), 2u);
  EXPECT_FALSE(steps.Steps()[0].cached);
}

TEST(StepRunnerTest, LayersAndWheelsAreReadFromTheOutputs) {
  cache::InMemoryBlobStore cas;
  ScriptedExecutor executor;
  StepRunner steps(&cas, &executor, {});
  re::ActionResult r;
  auto add = [&](const std::string& path, const std::string& bytes) {
    auto* f = r.add_output_files();
    f->set_path(path);
    *f->mutable_digest() = cache::WriteBlob(cas, bytes).value().ToProto();
  };
  const std::string hex(64, 'a');
  add("rootfs-diff.tar.gz", "gz");
  add("rootfs-diff.diff_id", "sha256:" + hex + "\n");
  auto layer = steps.CapturedLayer(r);
  ASSERT_TRUE(layer.ok()) << layer.status();
  EXPECT_EQ(layer->digest, Digest::Of("gz"));
  EXPECT_EQ(layer->diff_id.hash(), hex);
  // A wheel step's single output directory holds the .whl.
  re::Tree tree;
  auto* w = tree.mutable_root()->add_files();
  w->set_name("x-1.0-py3-none-any.whl");
  *w->mutable_digest() = cache::WriteBlob(cas, "zip").value().ToProto();
  auto* d = r.add_output_directories();
  d->set_path("out");
  *d->mutable_tree_digest() =
      cache::WriteBlob(cas, tree.SerializeAsString()).value().ToProto();
  auto wheel = steps.SingleWheel(r);
  ASSERT_TRUE(wheel.ok()) << wheel.status();
  EXPECT_EQ(wheel->first, "x-1.0-py3-none-any.whl");
  EXPECT_EQ(wheel->second, Digest::Of("zip"));
  r.clear_output_directories();
  EXPECT_EQ(steps.SingleWheel(r).status().message(),
            "the wheel step produced no output directory");
}

}  // namespace
}  // namespace pbrx::coordinator
