// WorkerClient: the pbrx-executor side of the Worker API. Connects to the
// coordinator, registers its platform properties and slots, runs each
// leased action with an common::ActionExecutor (the ActionRunner over the
// shared cache, with its own Action Cache writes turned off: the coordinator
// records results after checking them), sends heartbeats, and reports each
// result only after the runner uploaded every output. When the stream
// breaks (coordinator restart, network) or Stop() is called (SIGTERM), the
// running actions are cancelled (their sandboxed commands killed: their
// results could not be reported any more, and the coordinator requeues
// their leases elsewhere); then it reconnects with exponential backoff, or
// returns.
#ifndef PBRX_EXECUTOR_WORKER_CLIENT_H_
#define PBRX_EXECUTOR_WORKER_CLIENT_H_

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/action_executor.h"
#include "common/steady_notification.h"
#include "grpcpp/channel.h"
#include "proto/farm.grpc.pb.h"

namespace pbrx::executor {

struct WorkerClientOptions {
  std::string name;
  std::vector<std::pair<std::string, std::string>> properties;
  int slots = 1;
  absl::Duration min_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
};

class WorkerClient {
 public:
  WorkerClient(std::shared_ptr<grpc::Channel> coordinator,
               common::ActionExecutor* runner,
               const WorkerClientOptions& options);

  // Serves until Stop(). Thread-safe with respect to Stop().
  void Run();
  // Ends Run(): closes the stream, cancels running actions
  // (common::ExecuteOptions:: cancel), and lets Run() return once their runners
  // have returned.
  void Stop();

  // Sessions that ended (for tests and logs).
  int64_t sessions() const { return sessions_; }
  int64_t completed() const { return completed_; }

 private:
  // One connection: returns when the stream ends.
  void Session();

  std::unique_ptr<pbrx::farm::v1::Worker::Stub> stub_;
  common::ActionExecutor* runner_;
  WorkerClientOptions options_;
  common::SteadyNotification stop_;
  absl::Mutex ctx_mu_;
  grpc::ClientContext* current_ ABSL_GUARDED_BY(ctx_mu_) = nullptr;
  std::atomic<int64_t> sessions_{0};
  std::atomic<int64_t> completed_{0};
};

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_WORKER_CLIENT_H_
