// ActionRunner executes REAPI Actions locally: the Action Cache first (a
// hit is returned without running anything), else stage the input root from
// the CAS into a fresh work directory, run the Command in the Sandbox, upload
// outputs, stdout and stderr to the CAS, and record a successful result in
// the Action Cache. This is the unit of work of embedded mode and of every
// executor.
//
// Platform properties understood:
//   network  "none" (default) or "egress";
//   rootfs   comma-separated layer digests ("hash/size", bottom first) stacked
//            read-only as the sandbox's / (needs a LayerStore);
//   capture  "outputs" (default) or "rootfs-diff": the root is writable and
//            its changes become the output layer "rootfs-diff.tar.gz" (and
//            "rootfs-diff.diff_id" holding "sha256:<hex>") with apt/dpkg
//            noise left out; the command keeps the capabilities package
//            managers need (over its own ids only: executor/sandbox_ids.h);
//   tools    common::kStepToolsVersion: pbrx's step tools
//            (common/step_tool.h) at common::kStepToolPath, without a rootfs
//            (needs step_tool_binary).
// Others are refused with INVALID_ARGUMENT so a step never runs in the
// wrong environment.
// Thread-safe: each execution has its own work directory.
#ifndef PBRX_EXECUTOR_ACTION_RUNNER_H_
#define PBRX_EXECUTOR_ACTION_RUNNER_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/action_cache.h"
#include "cache/blob_store.h"
#include "common/action_executor.h"
#include "common/clock.h"
#include "executor/sandbox.h"

namespace pbrx::executor {

class LayerStore;

struct ActionRunnerOptions {
  std::string work_root;  // per-execution directories are created below it
  std::string worker_name = "pbrx";
  // Per-execution limits (pbrx-executor --action-*; the same defaults in
  // embedded mode). An Action's own timeout is clamped to max_timeout; an
  // Action without one gets default_timeout (also clamped).
  absl::Duration default_timeout = absl::Minutes(30);
  absl::Duration max_timeout = absl::Hours(2);
  int64_t memory_bytes = int64_t{4} << 30;
  int64_t max_pids = 4096;
  int64_t tmp_bytes = int64_t{2} << 30;  // the /tmp tmpfs
  bool keep_work_dirs = false;           // for debugging
  // The values of the "platform" property this host runs besides its own
  // (e.g. "linux/arm64" where qemu-user's binfmt handlers run arm64
  // binaries): pbrx-executor --platform platform=VALUE. A step asking for
  // another platform is refused, naming the property.
  std::vector<std::string> platforms;
  // Extracted layers for the "rootfs" property; nullptr: property refused.
  LayerStore* layers = nullptr;
  // mtime of captured layers.
  int64_t layer_mtime = 0;
  // Whether successful results are written to the Action Cache here. A farm
  // executor leaves that to the coordinator, which checks that every output
  // blob reached the CAS first.
  bool record_in_action_cache = true;
  // Free space the work root must have before an action is staged (0: no
  // check). Below it, or when a failed command left the filesystem full,
  // the execution fails with RESOURCE_EXHAUSTED (the executor's fault, not
  // the action's: a farm retries it elsewhere).
  int64_t min_free_bytes = 0;
  // Cap on the bytes of an execution's outputs (files, directories,
  // stdout and stderr), checked before anything is uploaded (0: none).
  // Over it the execution fails with INVALID_ARGUMENT naming the limit.
  int64_t max_output_bytes = int64_t{16} << 30;
  // The binary bound at common::kStepToolPath for tools=... steps (a binary
  // whose main runs common::RunStepTool, e.g. common::StepToolBinary());
  // empty: the property is refused.
  std::string step_tool_binary;
  // Whether this host offers debian-base=mmdebstrap (common/step_tool.h):
  // mmdebstrap is installed and step tools are on. Such a step runs the
  // step tool `debian-base` only, with network egress, and keeps the
  // package-manager capabilities plus CAP_SYS_CHROOT in its user namespace.
  bool debian_base_builder = false;
};

// INVALID_ARGUMENT naming the flag (--action-memory, --action-pids,
// --action-timeout-max, --action-tmp-size) when a limit is out of range:
// memory >= 16M, 16 <= pids <= 4194304, 1s <= timeout <= 7d, tmp >= 1M.
absl::Status ValidateLimitFlags(const ActionRunnerOptions& options);

class ActionRunner : public common::ActionExecutor {
 public:
  // All pointers must outlive the runner.
  ActionRunner(cache::BlobStore* cas, cache::ActionCache* action_cache,
               Sandbox* sandbox, common::Clock* clock,
               const ActionRunnerOptions& options)
      : cas_(cas),
        ac_(action_cache),
        sandbox_(sandbox),
        clock_(clock),
        options_(options) {}

  // FAILED_PRECONDITION with MISSING details when the Action, Command or
  // inputs are not in the CAS; INVALID_ARGUMENT for malformed messages or
  // unsupported platform properties.
  absl::StatusOr<common::ActionOutcome> Run(
      const common::Digest& action_digest,
      const common::ExecuteOptions& options) override;

 private:
  cache::BlobStore* cas_;
  cache::ActionCache* ac_;
  Sandbox* sandbox_;
  common::Clock* clock_;
  ActionRunnerOptions options_;
  std::atomic<int64_t> next_id_{0};
};

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_ACTION_RUNNER_H_
