// ExecutorServer: a whole pbrx-executor behind one object, as CacheServer
// and CoordinatorServer are for theirs. Create() validates the options,
// makes the process's mount namespace private (overlay mounts of rootfs
// stacks then die with the process, even on kill -9), prepares the work
// dir, the layer store, the bubblewrap sandbox (cgroups or, only when
// allowed, rlimits) and the metrics endpoint; Start() connects to the
// coordinator and takes leases; Shutdown() cancels running actions (their
// leases go back to the coordinator) and returns once they stopped.
//
// An executor listens on no gRPC port: it dials out to the coordinator
// and the cache, so address() is empty.
#ifndef PBRX_EXECUTOR_EXECUTOR_SERVER_H_
#define PBRX_EXECUTOR_EXECUTOR_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/grpc_cache_client.h"
#include "common/clock.h"
#include "common/daemon.h"
#include "common/grpc_channel.h"
#include "executor/action_runner.h"
#include "executor/binfmt.h"
#include "executor/bubblewrap_sandbox.h"
#include "executor/executor_metrics.h"
#include "executor/layer_store.h"
#include "executor/sandbox_ids.h"
#include "executor/worker_client.h"
#include "prometheus/registry.h"

namespace pbrx::executor {

struct ExecutorServerOptions {
  std::string coordinator;  // grpc[s]://HOST:PORT
  std::string cache;        // grpc[s]://HOST:PORT
  // TLS files (used towards whichever peer is grpcs://) and bearer token.
  common::ChannelOptions channel;
  std::string work_dir = "/var/tmp/pbrx-executor";
  std::string name;  // shown by the coordinator
  int64_t slots = 1;
  // Extra platform properties offered, "KEY=VALUE" each. Without a
  // platform=... among them, the foreign platforms binfmt_misc handlers
  // in `binfmt_dir` run here are offered (executor/binfmt.h).
  std::vector<std::string> platform;
  std::string binfmt_dir = kBinfmtDir;
  int64_t layer_cache_bytes = int64_t{20} << 30;
  int64_t min_free_bytes = int64_t{1} << 30;
  int64_t max_output_bytes = int64_t{16} << 30;
  // Per-action limits: memory_bytes, max_pids, max_timeout, tmp_bytes.
  ActionRunnerOptions limits;
  std::string metrics_listen;  // empty: no /metrics
  bool egress = true;
  bool egress_isolation = true;
  std::vector<std::string> egress_deny;  // IPv4 CIDRs
  bool allow_no_cgroups = false;
  std::string cgroup_root = "/sys/fs/cgroup";
  SandboxIds ids;
};

class ExecutorServer {
 public:
  // INVALID_ARGUMENT naming the flag for bad options (a daemon exits 2);
  // any other code for a host that cannot run steps (exit 1).
  static absl::StatusOr<std::unique_ptr<ExecutorServer>> Create(
      const ExecutorServerOptions& options, common::Clock* clock);
  ~ExecutorServer();

  absl::Status Start();
  // An executor serves no RPCs (it dials out): nothing to mark.
  void StopServing() {}
  // Cancels running actions and waits for them; `grace` is not used (a
  // cancelled action's lease runs again elsewhere).
  void Shutdown(absl::Duration grace);
  // An executor serves no TLS; its client certificate is read at start.
  absl::Status ReloadTls() {
    return absl::FailedPreconditionError(
        "pbrx-executor serves no TLS; its client certificate (--tls-cert) is "
        "read at start: restart it to change it");
  }

  std::string address() const { return std::string(); }
  // The start line: slots, peers, limits and their mechanism, ids, offers.
  std::string Describe() const;
  const std::vector<std::pair<std::string, std::string>>& properties() const {
    return properties_;
  }

 private:
  ExecutorServer() = default;
  absl::Status Init(const ExecutorServerOptions& options, common::Clock* clock);

  ExecutorServerOptions options_;
  std::vector<std::pair<std::string, std::string>> properties_;
  std::string limits_mechanism_;
  std::unique_ptr<cache::GrpcBlobStore> cas_;
  std::unique_ptr<cache::GrpcActionCache> ac_;
  std::unique_ptr<LayerStore> layers_;
  std::unique_ptr<BubblewrapSandbox> sandbox_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<LayerCacheCollector> layer_metrics_;
  common::MetricsEndpoint metrics_;
  std::unique_ptr<ActionRunner> runner_;
  std::unique_ptr<MeteredExecutor> metered_;  // runner_, counted
  std::unique_ptr<WorkerClient> client_;
  std::thread serve_;
};

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_EXECUTOR_SERVER_H_
