// ActionExecutor (the step API): anything that turns an Action digest (Action,
// Command and inputs already in the CAS) into an ActionResult — the local
// ActionRunner, the decorators below (in-flight dedup, a bound on concurrent
// runs) and, in the farm, the coordinator's scheduler. The image pipeline only
// sees this interface, so embedded mode and the farm run the same steps. It
// lives in common/ because both the pipeline and the executor use it and
// neither may depend on the other.
#ifndef PBRX_COMMON_ACTION_EXECUTOR_H_
#define PBRX_COMMON_ACTION_EXECUTOR_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "common/credentials.h"
#include "common/digest.h"

namespace pbrx::common {

struct ActionOutcome {
  build::bazel::remote::execution::v2::ActionResult result;
  bool cached = false;
  // Answered by an execution another caller started (in-flight dedup): run
  // once, but not on this caller's behalf.
  bool joined = false;
  // OK, or DEADLINE_EXCEEDED (timeout) / RESOURCE_EXHAUSTED (memory) with
  // the partial result above, as REAPI's ExecuteResponse.status carries it.
  absl::Status status;
  // The limit that killed the command: "timeout", "memory" or "pids";
  // empty when none did.
  std::string limit_exceeded;
};

struct ExecuteOptions {
  bool skip_cache_lookup = false;
  // The step kind ("wheel-build", "distro-layer", ...; empty for plain
  // REAPI actions), for metrics and logs only: never part of the key.
  std::string kind;
  // When it turns true, a running command is killed and the execution
  // ends with CANCELLED. Optional; must outlive the call.
  const std::atomic<bool>* cancel = nullptr;
  // Index credentials for this run only (common/credentials.h): never part
  // of the key; the step gets them as a netrc file at $NETRC
  // (/tmp/.netrc), and they are redacted from its stdout and stderr.
  std::vector<HostCredential> credentials;
  // The Action and Command behind the digest, when the caller has just
  // written them (the pipeline): an executor may use them instead of
  // reading them back, once they hash to the digests. Optional; must
  // outlive the call.
  const build::bazel::remote::execution::v2::Action* action = nullptr;
  const build::bazel::remote::execution::v2::Command* command = nullptr;
  // Set only for an executor that TakesDeferredUploads(), by a caller that
  // has not written the Action and Command yet (the pipeline): writes
  // them. The executor calls it once before the action is admitted or
  // queued; a result from the Action Cache or from the same action's run
  // in flight needs neither. Must outlive the call.
  std::function<absl::Status()> upload;
};

class ActionExecutor {
 public:
  virtual ~ActionExecutor() = default;

  // FAILED_PRECONDITION with MISSING details when the Action, Command or
  // inputs are not in the CAS; INVALID_ARGUMENT for malformed messages or
  // unsupported platform properties. Thread-safe.
  virtual absl::StatusOr<ActionOutcome> Run(const Digest& action_digest,
                                            const ExecuteOptions& options) = 0;

  // Whether Run may be given ExecuteOptions::upload instead of an Action
  // and Command already in the CAS.
  virtual bool TakesDeferredUploads() const { return false; }

  absl::StatusOr<ActionOutcome> Execute(const Digest& action_digest,
                                        bool skip_cache_lookup = false) {
    ExecuteOptions options;
    options.skip_cache_lookup = skip_cache_lookup;
    return Run(action_digest, options);
  }
};

}  // namespace pbrx::common

#endif  // PBRX_COMMON_ACTION_EXECUTOR_H_
