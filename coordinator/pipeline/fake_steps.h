// FakeSteps: a common::ActionExecutor that answers every step of the image
// pipeline at once with outputs of the right shape, written to the CAS: no
// sandbox, no Python, no network. For the orchestrator's unit tests and the
// scale bench (fast fake executors). By step kind:
//   base: a layer (base.tar.gz + base.diff_id);
//   base-probe: probe.json of a Debian 12 base with Python 3.11;
//   packages-probe: packages.json listing libc6 and python3;
//   distro-layer, bytecode: a captured layer (rootfs-diff.tar.gz + .diff_id);
//   project-wheel: a wheel made from the [project] table of the
//     pyproject.toml in the input root's src/ (name, version, dependencies,
//     optional-dependencies, scripts), in dist/;
//   resolve: a pip report that installs the requested wheel and, for each of
//     its Requires-Dist that applies (no marker, or `extra == "X"` for a
//     requested extra), the file in /work/links whose distribution name
//     matches (not transitive); exit 1 "No matching distribution found for
//     NAME" when there is none;
//   fetch: the file; wheel-build: a wheel named after the sdist, in out/;
//   python-layer: layer.tar.gz + layer.diff_id.
// A layer's bytes are derived from its Action, so distinct steps make
// distinct layers and the same step the same one. The kind is the
// caller's (ExecuteOptions.kind), else read from the command (a farm lease
// carries none). Thread-safe.
#ifndef PBRX_COORDINATOR_PIPELINE_FAKE_STEPS_H_
#define PBRX_COORDINATOR_PIPELINE_FAKE_STEPS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/blob_store.h"
#include "common/action_executor.h"
#include "common/digest.h"

namespace pbrx::coordinator {

class FakeSteps : public common::ActionExecutor {
 public:
  // One answered step.
  struct Call {
    std::string kind;
    std::vector<std::string> argv;
    std::map<std::string, std::string> platform;
    common::Digest input_root = common::Digest::Empty();
    build::bazel::remote::execution::v2::ActionResult result;
  };

  // `cas` must outlive this.
  explicit FakeSteps(cache::BlobStore* cas) : cas_(*cas) {}

  // Steps of `kind` exit with `exit_code` and `log` on stderr from now on.
  void Fail(const std::string& kind, int exit_code, const std::string& log);

  // The steps answered so far, in order.
  std::vector<Call> Calls();

  // The step kind `call`'s command is ("" if none): what answers a lease,
  // which carries no kind.
  static std::string KindOf(const Call& call);

  absl::StatusOr<common::ActionOutcome> Run(
      const common::Digest& action_digest,
      const common::ExecuteOptions& options) override;

 private:
  // The outputs of one step, or the log of a failing one.
  absl::Status Answer(const std::string& kind, const Call& call,
                      build::bazel::remote::execution::v2::ActionResult* r,
                      std::string* log);

  cache::BlobStore& cas_;
  absl::Mutex mu_;
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::pair<int, std::string>> failures_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_FAKE_STEPS_H_
