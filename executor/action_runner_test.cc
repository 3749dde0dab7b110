// ActionRunner with the real bubblewrap sandbox and in-memory CAS/AC.
#include "executor/action_runner.h"

#include <sys/stat.h>

#include <fstream>

#include "cache/completeness_checking_action_cache.h"
#include "cache/directory_tree.h"
#include "cache/in_memory_action_cache.h"
#include "cache/in_memory_blob_store.h"
#include "common/missing_blobs.h"
#include "executor/bubblewrap_sandbox.h"
#include "executor/layer_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::executor {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;
using ::testing::HasSubstr;

class ActionRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sandbox_ =
        std::move(BubblewrapSandbox::Create(BubblewrapOptions{})).value();
    dir_ = testing_util::NewTempDir("runner");
    std::string work_root = dir_ + "/runs";
    mkdir(work_root.c_str(), 0755);
    ActionRunnerOptions o;
    o.work_root = work_root;
    o.worker_name = "test-worker";
    UseOptions(o);
  }

  void UseOptions(const ActionRunnerOptions& o) {
    runner_ =
        std::make_unique<ActionRunner>(&cas_, &ac_, sandbox_.get(), &clock_, o);
  }

  Digest Inputs(std::map<std::string, std::string> files) {
    std::string in = testing_util::NewTempDir("in");
    for (const auto& [name, content] : files) {
      std::string path = in + "/" + name;
      std::string parent = path.substr(0, path.rfind('/'));
      mkdir(parent.c_str(), 0755);
      std::ofstream(path) << content;
    }
    return cache::UploadDirectory(in, cas_).value().root;
  }

  Digest MakeAction(
      std::vector<std::string> argv, const Digest& input_root,
      std::vector<std::string> output_files = {},
      std::vector<std::string> output_dirs = {}, int timeout_s = 0,
      std::vector<std::pair<std::string, std::string>> platform = {}) {
    re::Command cmd;
    for (const auto& a : argv) cmd.add_arguments(a);
    auto* env = cmd.add_environment_variables();
    env->set_name("PATH");
    env->set_value("/usr/bin:/bin");
    for (const auto& o : output_files) cmd.add_output_files(o);
    for (const auto& o : output_dirs) cmd.add_output_directories(o);
    Digest cmd_digest = cache::WriteBlob(cas_, cmd.SerializeAsString()).value();
    re::Action action;
    *action.mutable_command_digest() = cmd_digest.ToProto();
    *action.mutable_input_root_digest() = input_root.ToProto();
    if (timeout_s > 0) action.mutable_timeout()->set_seconds(timeout_s);
    for (const auto& [k, v] : platform) {
      auto* p = action.mutable_platform()->add_properties();
      p->set_name(k);
      p->set_value(v);
    }
    return cache::WriteBlob(cas_, action.SerializeAsString()).value();
  }

  std::string Blob(const re::Digest& d) {
    return cache::ReadBlob(cas_, Digest::FromProto(d).value()).value();
  }

  common::RealClock clock_;
  cache::InMemoryBlobStore cas_;
  cache::InMemoryActionCache raw_ac_;
  cache::CompletenessCheckingActionCache ac_{&raw_ac_, &cas_};
  std::unique_ptr<BubblewrapSandbox> sandbox_;
  std::unique_ptr<ActionRunner> runner_;
  std::string dir_;
};

TEST_F(ActionRunnerTest, RunsUploadsOutputsAndCaches) {
  Digest inputs =
      Inputs({{"in.txt", "input data\n"}, {"src/lib.txt", "lib\n"}});
  Digest action =
      MakeAction({"sh", "-c",
                  "mkdir -p out/tree/sub && cp in.txt out/tree/sub/copy && "
                  "echo made > out/file && "
                  "chmod +x out/file && echo to-stdout && echo to-stderr >&2"},
                 inputs, {"out/file"}, {"out/tree"});
  auto first = runner_->Execute(action);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->cached);
  const re::ActionResult& r = first->result;
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_EQ(Blob(r.stdout_digest()), "to-stdout\n");
  EXPECT_EQ(Blob(r.stderr_digest()), "to-stderr\n");
  ASSERT_EQ(r.output_files_size(), 1);
  EXPECT_EQ(r.output_files(0).path(), "out/file");
  EXPECT_TRUE(r.output_files(0).is_executable());
  EXPECT_EQ(Blob(r.output_files(0).digest()), "made\n");
  ASSERT_EQ(r.output_directories_size(), 1);
  re::Tree tree;
  ASSERT_TRUE(
      tree.ParseFromString(Blob(r.output_directories(0).tree_digest())));
  ASSERT_EQ(tree.root().directories_size(), 1);
  EXPECT_EQ(tree.root().directories(0).name(), "sub");
  ASSERT_EQ(tree.children_size(), 1);
  EXPECT_EQ(Blob(tree.children(0).files(0).digest()), "input data\n");
  EXPECT_EQ(r.execution_metadata().worker(), "test-worker");

  auto second = runner_->Execute(action);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->cached);
  EXPECT_EQ(second->result.output_files(0).digest().hash(),
            r.output_files(0).digest().hash());
}

TEST_F(ActionRunnerTest, RunsTheCallersMessagesWhenTheyAreTheDigests) {
  Digest inputs = Inputs({{"in.txt", "x"}});
  re::Command cmd;
  cmd.add_arguments("sh");
  cmd.add_arguments("-c");
  cmd.add_arguments("echo from-the-lease");
  re::Action action;
  *action.mutable_command_digest() =
      Digest::Of(cmd.SerializeAsString()).ToProto();
  *action.mutable_input_root_digest() = inputs.ToProto();
  const Digest digest = Digest::Of(action.SerializeAsString());
  // Neither message is in the CAS: the caller's copies are run.
  common::ExecuteOptions eo;
  eo.action = &action;
  eo.command = &cmd;
  auto out = runner_->Run(digest, eo);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->result.exit_code(), 0);
  EXPECT_EQ(Blob(out->result.stdout_digest()), "from-the-lease\n");
  // Copies that are not the digest's messages are not run: the CAS is
  // asked, and it lacks them (no cache lookup, which would answer first).
  eo.skip_cache_lookup = true;
  re::Command forged = cmd;
  forged.set_arguments(2, "echo forged");
  eo.command = &forged;
  out = runner_->Run(digest, eo);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition)
      << out.status();
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("reading the command"));
  re::Action other = action;
  other.set_do_not_cache(true);
  eo.action = &other;
  eo.command = &cmd;
  out = runner_->Run(digest, eo);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition)
      << out.status();
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("reading the action"));
}

TEST_F(ActionRunnerTest, FailuresAreResultsAndNotCached) {
  Digest action =
      MakeAction({"sh", "-c", "echo broken >&2; exit 7"}, Inputs({}));
  auto r = runner_->Execute(action);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.exit_code(), 7);
  EXPECT_EQ(Blob(r->result.stderr_digest()), "broken\n");
  EXPECT_EQ(raw_ac_.Get(action).status().code(), absl::StatusCode::kNotFound);
  auto again = runner_->Execute(action);
  EXPECT_FALSE(again->cached);
}

TEST_F(ActionRunnerTest, TimeoutIsDeadlineExceeded) {
  Digest action =
      MakeAction({"sleep", "30"}, Inputs({}), {}, {}, /*timeout_s=*/1);
  auto r = runner_->Execute(action);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(raw_ac_.Get(action).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ActionRunnerTest, AnActionsOwnTimeoutIsClampedToTheMaximum) {
  ActionRunnerOptions o;
  o.work_root = dir_ + "/runs";
  o.max_timeout = absl::Seconds(1);
  UseOptions(o);
  // Asks for an hour; without the clamp the sleep would end with exit 0.
  Digest action =
      MakeAction({"sleep", "20"}, Inputs({}), {}, {}, /*timeout_s=*/3600);
  auto r = runner_->Execute(action);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status.code(), absl::StatusCode::kDeadlineExceeded) << r->status;
  // No timeout in the Action: the default, clamped too.
  Digest untimed = MakeAction({"sleep", "20"}, Inputs({}));
  r = runner_->Execute(untimed);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status.code(), absl::StatusCode::kDeadlineExceeded) << r->status;
}

TEST_F(ActionRunnerTest, TmpIsATmpfsOfTheConfiguredSize) {
  ActionRunnerOptions o;
  o.work_root = dir_ + "/runs";
  o.tmp_bytes = 4 << 20;
  UseOptions(o);
  Digest action =
      MakeAction({"sh", "-c",
                  "head -c 3M /dev/zero >/tmp/a && echo small-ok && "
                  "head -c 3M /dev/zero >/tmp/b"},
                 Inputs({}));
  auto r = runner_->Execute(action);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result.exit_code(), 1);
  EXPECT_EQ(Blob(r->result.stdout_digest()), "small-ok\n");
  EXPECT_THAT(Blob(r->result.stderr_digest()),
              HasSubstr("No space left on device"));
}

TEST(ValidateLimitFlagsTest, NamesTheFlagAndTheRange) {
  ActionRunnerOptions o;
  EXPECT_TRUE(ValidateLimitFlags(o).ok());
  EXPECT_EQ(o.memory_bytes, int64_t{4} << 30);  // the documented defaults
  EXPECT_EQ(o.max_pids, 4096);
  EXPECT_EQ(o.max_timeout, absl::Hours(2));
  EXPECT_EQ(o.tmp_bytes, int64_t{2} << 30);
  ActionRunnerOptions m = o;
  m.memory_bytes = 1024;
  EXPECT_EQ(ValidateLimitFlags(m).message(),
            "--action-memory 1024 bytes is below the minimum 16M");
  ActionRunnerOptions p = o;
  p.max_pids = 0;
  EXPECT_EQ(ValidateLimitFlags(p).message(),
            "--action-pids 0 is outside 16..4194304");
  ActionRunnerOptions t = o;
  t.max_timeout = absl::Milliseconds(10);
  EXPECT_EQ(ValidateLimitFlags(t).message(),
            "--action-timeout-max 10ms is outside 1s..168h");
  ActionRunnerOptions tmp = o;
  tmp.tmp_bytes = 0;
  EXPECT_EQ(ValidateLimitFlags(tmp).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateLimitFlags(tmp).message(),
            "--action-tmp-size 0 bytes is below the minimum 1M");
}

TEST_F(ActionRunnerTest, MissingInputsAreFailedPreconditionWithDetails) {
  Digest absent = Digest::Of("a directory nobody uploaded");
  Digest action = MakeAction({"true"}, absent);
  auto r = runner_->Execute(action);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(common::MissingBlobsOf(r.status()),
              ::testing::ElementsAre(absent));
  auto missing_action = runner_->Execute(Digest::Of("no such action"));
  EXPECT_EQ(missing_action.status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ActionRunnerTest, RefusesUnsupportedPlatformsAndUnsafeOutputs) {
  auto r = runner_->Execute(
      MakeAction({"true"}, Inputs({}), {}, {}, 0, {{"rootfs", "sha256:x"}}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("unsupported platform property rootfs"));
  r = runner_->Execute(MakeAction({"true"}, Inputs({}), {"../escape"}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  // network=egress is accepted (and not exercised against any outside host).
  r = runner_->Execute(
      MakeAction({"true"}, Inputs({}), {}, {}, 0, {{"network", "egress"}}));
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST_F(ActionRunnerTest, StepToolsAreTheGivenBinaryBoundWithoutARootfs) {
  Digest tool = MakeAction({"/.pbrx/step-tool", "-c", "echo tool ran"},
                           Inputs({}), {}, {}, 0, {{"tools", "pbrx-1"}});
  // An executor without a tool binary does not offer the property.
  auto r = runner_->Execute(tool);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "unsupported platform property tools=pbrx-1");
  // With one (/bin/sh standing in for pbrx's own binary) it is bound at
  // /.pbrx/step-tool, read-only.
  std::unique_ptr<LayerStore> layers =
      std::move(LayerStore::Create(dir_ + "/layers", &cas_).value());
  ActionRunnerOptions o;
  o.work_root = dir_ + "/runs";
  o.step_tool_binary = "/bin/sh";
  o.layers = layers.get();
  UseOptions(o);
  r = runner_->Execute(tool);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result.exit_code(), 0);
  EXPECT_EQ(Blob(r->result.stdout_digest()), "tool ran\n");
  r = runner_->Execute(
      MakeAction({"/.pbrx/step-tool", "-c", "echo x > /.pbrx/step-tool"},
                 Inputs({}), {}, {}, 0, {{"tools", "pbrx-1"}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->result.exit_code(), 0);
  EXPECT_THAT(Blob(r->result.stderr_digest()),
              HasSubstr("Read-only file system"));
  // Another tools version, or tools on a rootfs, are refused.
  r = runner_->Execute(MakeAction({"/.pbrx/step-tool"}, Inputs({}), {}, {}, 0,
                                  {{"tools", "pbrx-0"}}));
  EXPECT_EQ(r.status().message(), "unsupported platform property tools=pbrx-0");
  Digest layer = cache::WriteBlob(cas_, "not really a layer").value();
  r = runner_->Execute(
      MakeAction({"/.pbrx/step-tool"}, Inputs({}), {}, {}, 0,
                 {{"tools", "pbrx-1"}, {"rootfs", layer.ToString()}}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "tools=pbrx-1 runs on the host's tools, not on a rootfs");
}

TEST_F(ActionRunnerTest, AnotherPlatformRunsOnlyWhereOffered) {
  Digest in = Inputs({});
  Digest arm =
      MakeAction({"/bin/true"}, in, {}, {}, 0, {{"platform", "linux/arm64"}});
  ActionRunnerOptions o;
  o.work_root = dir_ + "/runs";
  UseOptions(o);
  auto r = runner_->Execute(arm);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "unsupported platform property platform=linux/arm64");
  o.platforms = {"linux/riscv64", "linux/arm64"};
  UseOptions(o);
  r = runner_->Execute(arm);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result.exit_code(), 0);
}

TEST_F(ActionRunnerTest, DebianBaseStepsRunOnlyTheToolWithChroot) {
  // /bin/sh stands in for pbrx's binary: "/.pbrx/step-tool __pbrx_step_tool
  // debian-base" then runs the input file __pbrx_step_tool as a script,
  // which prints the capabilities the step got.
  Digest in = Inputs({{"__pbrx_step_tool", "grep CapEff /proc/self/status\n"}});
  const std::vector<std::pair<std::string, std::string>> props = {
      {"tools", "pbrx-1"},
      {"debian-base", "mmdebstrap"},
      {"network", "egress"}};
  Digest base =
      MakeAction({"/.pbrx/step-tool", "__pbrx_step_tool", "debian-base"}, in,
                 {}, {}, 0, props);
  std::unique_ptr<LayerStore> layers =
      std::move(LayerStore::Create(dir_ + "/layers", &cas_).value());
  ActionRunnerOptions o;
  o.work_root = dir_ + "/runs";
  o.step_tool_binary = "/bin/sh";
  o.layers = layers.get();
  UseOptions(o);
  // Not offered: an executor without mmdebstrap.
  auto r = runner_->Execute(base);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "unsupported platform property debian-base=mmdebstrap");
  o.debian_base_builder = true;
  UseOptions(o);
  r = runner_->Execute(base);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result.exit_code(), 0) << Blob(r->result.stderr_digest());
  // The package-manager set plus CAP_SYS_CHROOT (bit 18), in the step's
  // user namespace.
  EXPECT_EQ(Blob(r->result.stdout_digest()), "CapEff:\t00000000000400fb\n");
  // The same tool step without the property: no capability at all.
  r = runner_->Execute(
      MakeAction({"/.pbrx/step-tool", "__pbrx_step_tool", "debian-base"}, in,
                 {}, {}, 0, {{"tools", "pbrx-1"}, {"network", "egress"}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Blob(r->result.stdout_digest()), "CapEff:\t0000000000000000\n");
  // Any other command, or without the tools or egress, is refused.
  const std::string refused =
      "debian-base=mmdebstrap runs only the step tool debian-base (with "
      "tools=pbrx-1 and network=egress)";
  for (const auto& [argv, platform] :
       std::vector<std::pair<std::vector<std::string>,
                             std::vector<std::pair<std::string, std::string>>>>{
           {{"/bin/sh", "-c", "id"}, props},
           {{"/.pbrx/step-tool", "__pbrx_step_tool", "install-wheels"}, props},
           {{"/.pbrx/step-tool", "__pbrx_step_tool"}, props},
           {{"/.pbrx/step-tool", "__pbrx_step_tool", "debian-base"},
            {{"tools", "pbrx-1"}, {"debian-base", "mmdebstrap"}}},
           {{"/.pbrx/step-tool", "__pbrx_step_tool", "debian-base"},
            {{"debian-base", "mmdebstrap"}, {"network", "egress"}}}}) {
    r = runner_->Execute(MakeAction(argv, in, {}, {}, 0, platform));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << argv.back();
    EXPECT_EQ(r.status().message(), refused) << argv.back();
  }
}

TEST_F(ActionRunnerTest, OutputBytesAreCappedBeforeAnythingIsUploaded) {
  ActionRunnerOptions o;
  o.work_root = dir_ + "/runs";
  o.max_output_bytes = 1 << 20;
  ActionRunner capped(&cas_, &ac_, sandbox_.get(), &clock_, o);
  auto r = capped.Execute(MakeAction(
      {"sh", "-c", "mkdir -p d && head -c 2000000 /dev/zero > d/big"},
      Inputs({}), {}, {"d"}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "the action's outputs are 2000000 bytes, more than the executor's "
            "limit of 1048576 (--max-output-bytes)");
  EXPECT_EQ(*cas_.FindMissing({Digest::Of(std::string(2000000, '\0'))}),
            std::vector<Digest>{Digest::Of(std::string(2000000, '\0'))});
  r = capped.Execute(MakeAction({"sh", "-c", "head -c 1000 /dev/zero > f"},
                                Inputs({}), {"f"}));
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST_F(ActionRunnerTest, OutputsAreNeverCollectedThroughASymlink) {
  // The command replaces its output's parent with a symlink to the host's
  // root (the sandbox's / is the host's, read-only, when no rootfs is
  // given): collecting out/etc/hostname must not upload the host's file.
  std::string host_file = testing_util::ReadFile("/etc/hostname");
  ASSERT_FALSE(host_file.empty());
  Digest host_digest = Digest::Of(host_file);
  auto r = runner_->Execute(MakeAction({"sh", "-c", "rm -rf out; ln -s / out"},
                                       Inputs({}), {"out/etc/hostname"}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "output path 'out/etc/hostname': 'out' is a symlink (paths are "
            "never followed through one)");
  // An output directory below a symlinked parent: refused the same way.
  r = runner_->Execute(
      MakeAction({"sh", "-c", "rm -rf d/sub; ln -s /etc d/sub"}, Inputs({}), {},
                 {"d/sub/ssl"}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "output path 'd/sub/ssl': 'd/sub' is a symlink (paths are never "
            "followed through one)");
  // The output itself a symlink: recorded as a symlink, never read.
  r = runner_->Execute(
      MakeAction({"ln", "-s", "/etc", "out"}, Inputs({}), {}, {"out"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->result.output_symlinks_size(), 1);
  EXPECT_EQ(r->result.output_symlinks(0).target(), "/etc");
  EXPECT_EQ(r->result.output_directories_size(), 0);
  EXPECT_EQ(*cas_.FindMissing({host_digest}), std::vector<Digest>{host_digest})
      << "the host's /etc/hostname reached the CAS";
}

}  // namespace
}  // namespace pbrx::executor
