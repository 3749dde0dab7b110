// StepRunner: how the pipeline runs one step. It turns an ActionSpec into
// a REAPI Action (the Command with the pipeline's fixed environment, the
// platform sorted) in the CAS, runs it through a common::ActionExecutor
// (the local runner or the farm), records a StepReport for the build's
// report and progress, and turns a failure into one error naming the step,
// its command and its log's last lines. It also reads the outputs steps
// share (a file, a layer as blob + diff_id, the single wheel of an output
// directory). One per project build; thread-safe.
#ifndef PBRX_COORDINATOR_PIPELINE_STEP_RUNNER_H_
#define PBRX_COORDINATOR_PIPELINE_STEP_RUNNER_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/blob_store.h"
#include "common/action_executor.h"
#include "common/credentials.h"
#include "common/digest.h"
#include "common/oci/layer.h"
#include "coordinator/pipeline/step_report.h"

namespace pbrx::coordinator {

// PATH in every step and in the images' configs.
inline constexpr char kDefaultPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// One step as the pipeline describes it.
struct ActionSpec {
  bool do_not_cache = false;
  std::vector<std::string> argv;
  // Besides PATH, HOME, LANG and SOURCE_DATE_EPOCH, which every step gets.
  std::map<std::string, std::string> env;
  common::Digest input_root = common::Digest::Empty();
  std::vector<std::string> output_files;
  std::vector<std::string> output_dirs;
  std::vector<std::pair<std::string, std::string>> platform;
  // Index credentials the step needs (common/credentials.h): given to the
  // executor beside the Action, never in it; the Command only carries
  // PBRX_CREDENTIALS_ID, so results of two identities never share a key.
  std::vector<common::HostCredential> credentials;
};

struct StepRunnerOptions {
  // Every step's SOURCE_DATE_EPOCH (at least 1980: wheels are ZIP files).
  int64_t source_date_epoch = 0;
  // Called (from any thread) as each step finishes.
  std::function<void(const StepReport&)> on_step;
  // Called as a step is handed to the executor (before a cache lookup).
  std::function<void(const std::string& kind, const std::string& name)>
      on_step_start;
  // Called with a one-line status as steps start.
  std::function<void(const std::string&)> progress;
  // Names the project in progress lines.
  std::string label;
  // The images' platform when it is not the executors' default
  // (linux/amd64), e.g. "linux/arm64": every step that runs on a rootfs then
  // asks for the platform property platform=VALUE, which only executors
  // that can run such binaries offer.
  std::string platform;
};

class StepRunner {
 public:
  // `cas` and `executor` must outlive the runner.
  StepRunner(cache::BlobStore* cas, common::ActionExecutor* executor,
             StepRunnerOptions options)
      : cas_(*cas), executor_(*executor), options_(std::move(options)) {}

  // The Action for `spec`, written to the CAS with its Command.
  absl::StatusOr<common::Digest> PutAction(const ActionSpec& spec);
  struct MadeAction {
    common::Digest digest = common::Digest::Empty();
    build::bazel::remote::execution::v2::Action action;
    build::bazel::remote::execution::v2::Command command;
  };
  // The Action and its Command (ExecuteOptions can carry them), written.
  absl::StatusOr<MadeAction> WriteAction(const ActionSpec& spec);
  // The messages and digest of `spec`'s Action, not written yet.
  MadeAction MakeAction(const ActionSpec& spec) const;
  // Writes a made Action's Command and Action to the CAS.
  absl::Status Upload(const MadeAction& made);

  // Runs the step `kind` (`name` says which one, e.g. a package set).
  // ABORTED naming the step, its command and its log's last lines when it
  // fails or exits non-zero.
  absl::StatusOr<build::bazel::remote::execution::v2::ActionResult> Step(
      const std::string& kind, const std::string& name, const ActionSpec& spec);

  // Records a step that ran outside Step() (an imported base).
  void AddStep(StepReport step);

  // The output file `path` of a result; INTERNAL when the step made none.
  absl::StatusOr<common::Digest> OutputFile(
      const build::bazel::remote::execution::v2::ActionResult& r,
      const std::string& path);
  // A layer a step produced as two outputs: the blob and its diff_id text.
  absl::StatusOr<common::oci::Layer> LayerOutputs(
      const build::bazel::remote::execution::v2::ActionResult& r,
      const std::string& blob_path, const std::string& diff_id_path);
  // The layer of a capture=rootfs-diff step.
  absl::StatusOr<common::oci::Layer> CapturedLayer(
      const build::bazel::remote::execution::v2::ActionResult& r);
  // The one .whl in a step's single output directory: (file name, digest).
  absl::StatusOr<std::pair<std::string, common::Digest>> SingleWheel(
      const build::bazel::remote::execution::v2::ActionResult& r);

  // A probe: `python3 -c SCRIPT` on the rootfs `rootfs` (comma-separated
  // layer digests) from an empty input root, run as the step `kind`
  // `name`; the text of the file `output` it writes (FAILED_PRECONDITION
  // naming the step when it is over `max_bytes`).
  absl::StatusOr<std::string> Probe(const std::string& kind,
                                    const std::string& name,
                                    const std::string& script,
                                    const std::string& rootfs,
                                    const std::string& output,
                                    int64_t max_bytes);

  // An empty input root, and a root holding one named subtree.
  absl::StatusOr<common::Digest> EmptyDir();
  absl::StatusOr<common::Digest> Wrap(const std::string& name,
                                      const common::Digest& child);

  int64_t source_date_epoch() const { return options_.source_date_epoch; }
  cache::BlobStore& cas() { return cas_; }

  // The steps so far, in the order they finished.
  std::vector<StepReport> Steps();

 private:
  void Progress(const std::string& what);

  cache::BlobStore& cas_;
  common::ActionExecutor& executor_;
  const StepRunnerOptions options_;
  absl::Mutex mu_;
  std::vector<StepReport> steps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_STEP_RUNNER_H_
