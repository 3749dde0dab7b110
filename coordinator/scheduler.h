// Scheduler: the coordinator's queue of actions waiting for executors.
//
// - Submit: an action already queued or running (from any build or client)
//   is joined: every caller shares one Operation. Otherwise it is queued in
//   its caller's group.
// - Fairness: one FIFO per group (a build, or a REAPI client); executors are
//   served round-robin over the groups, so one huge fan-out cannot starve a
//   small build.
// - Matching: an action's platform property (name, value) matches an
//   executor offering that pair or (name, "*").
// - Leases: NextWork hands an executor the first matching action of the
//   next group while it has free slots. An executor that disconnects
//   (RemoveWorker) or stops sending heartbeats (Tick) loses its leases: they
//   are requeued, at most `max_attempts` leases per action, after which the
//   action fails with UNAVAILABLE. So is a lease its executor stops naming
//   in heartbeats, and one that outlives its deadline (the Action's timeout
//   + lease_grace; the executor is told to cancel it).
// - A caller that joins an action whose cancellation was asked (its last
//   caller left while it ran) takes it back: the cancel is withdrawn if not
//   yet sent, else the cancelled run is requeued, never answered CANCELLED. An
//   action an executor failed (a fault of the executor, such as a full disk) is
//   not leased to that executor again while another matching executor is
//   registered.
// - An action no registered executor can ever run fails with
//   FAILED_PRECONDITION after `unmatched_timeout` instead of waiting forever.
// - Release: when the last caller of a queued action goes away it is
//   dropped; a running one is cancelled on its executor.
// Time comes from an injected Clock; Tick(now-driven) is called by a thread
// of the server. Thread-safe.
#ifndef PBRX_COORDINATOR_SCHEDULER_H_
#define PBRX_COORDINATOR_SCHEDULER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/action_executor.h"
#include "common/clock.h"
#include "common/credentials.h"
#include "common/digest.h"

namespace pbrx::coordinator {

using Properties = std::vector<std::pair<std::string, std::string>>;

// Whether an executor offering `offered` can run an action asking `wanted`.
bool PlatformMatches(const Properties& wanted, const Properties& offered);

// "name=value,name=value" for messages.
std::string PropertiesText(const Properties& p);

enum class Stage { kQueued, kExecuting, kCompleted };

// One action's execution, shared by every caller that asked for it while it
// was in flight.
class Operation {
 public:
  Operation(std::string name, common::Digest action)
      : name_(std::move(name)), action_(std::move(action)) {}

  const std::string& name() const { return name_; }
  const common::Digest& action() const { return action_; }

  Stage stage() const;
  // Blocks until the stage is no longer `seen` or `deadline` passes (real
  // time); returns the stage then.
  Stage WaitForChange(Stage seen, absl::Time deadline) const;
  // Blocks until completed (or deadline: then DEADLINE_EXCEEDED).
  absl::StatusOr<common::ActionOutcome> Wait(absl::Time deadline) const;
  // The outcome; only meaningful once completed.
  absl::StatusOr<common::ActionOutcome> outcome() const;

 private:
  friend class Scheduler;
  void SetStage(Stage s);
  void Finish(absl::StatusOr<common::ActionOutcome> outcome);

  const std::string name_;
  const common::Digest action_;
  std::string key_;  // the scheduler's in-flight key (set at Submit)
  mutable absl::Mutex mu_;
  Stage stage_ ABSL_GUARDED_BY(mu_) = Stage::kQueued;
  absl::StatusOr<common::ActionOutcome> outcome_ ABSL_GUARDED_BY(mu_) =
      absl::UnknownError("not finished");
};

// Receives scheduling events (for metrics). Called with the scheduler's lock
// held: must be quick and must not call back.
class SchedulerObserver {
 public:
  virtual ~SchedulerObserver() = default;
  // `kind` is the step kind given to Submit ("" for plain REAPI actions).
  virtual void Queued(const std::string& kind) {}
  virtual void Joined(const std::string& kind) {}
  virtual void Leased(const std::string& kind, absl::Duration queue_wait) {}
  virtual void Retried(const std::string& kind) {}
  // One lease ended: result "succeeded" (the command ran, any exit code)
  // or "failed" (the executor's fault, a lost lease, a cancel).
  virtual void AttemptFinished(const std::string& kind,
                               const std::string& result,
                               absl::Duration run_time) {}
  // A queued execution ended, once per Submit that queued it: outcome
  // "executed" (the command ran, any exit code), "failed" (no attempt
  // could run it) or "cancelled" (no caller waited any more).
  virtual void Finished(const std::string& kind, const std::string& outcome) {}
};

// How an action is queued.
// An action's Action and Command, handed to the executor with its lease.
struct ActionMessages {
  build::bazel::remote::execution::v2::Action action;
  build::bazel::remote::execution::v2::Command command;
};

struct SubmitOptions {
  Properties platform;
  std::string group;  // fairness group: a build, or a REAPI client
  bool skip_cache_lookup = false;
  absl::Duration timeout = absl::ZeroDuration();  // 0: the executor's default
  std::string kind;                               // for metrics ("" = action)
  bool do_not_cache = false;  // its result must not reach the Action Cache
  // Index credentials for the executor that runs it (with its lease), not
  // part of the key: a caller joining a queued or running execution of
  // the same Action shares its run (the Command holds the identities'
  // PBRX_CREDENTIALS_ID, so only callers of the same identities can).
  std::vector<common::HostCredential> credentials;
  // Optional: the messages, sent with the lease (see ActionMessages).
  std::shared_ptr<const ActionMessages> messages;
};

// What a lease is for.
struct LeasedActionInfo {
  common::Digest action;
  bool do_not_cache = false;
};

struct SchedulerOptions {
  int max_attempts = 3;
  // An executor not heard from for this long is considered lost.
  absl::Duration worker_timeout = absl::Seconds(30);
  absl::Duration heartbeat_interval = absl::Seconds(5);
  // A queued action that no registered executor matches fails after this.
  absl::Duration unmatched_timeout = absl::Seconds(60);
  // Completed operations stay findable by name (WaitExecution) this long.
  absl::Duration completed_retention = absl::Minutes(10);
  // An executor that reported a fault of its own (full disk, lost inputs)
  // gets no new leases for this long, so the retry goes elsewhere.
  absl::Duration fault_cooldown = absl::Seconds(10);
  // A lease ends by this long after the Action's timeout (or
  // default_action_timeout when it names none) at the latest: past it the
  // executor is told to cancel it and it is requeued (within
  // max_attempts).
  absl::Duration lease_grace = absl::Minutes(5);
  absl::Duration default_action_timeout = absl::Hours(2);
};

struct WorkItem {
  enum class Kind { kLease, kCancel } kind = Kind::kLease;
  std::string lease_id;
  common::Digest action = common::Digest::Empty();
  int attempt = 0;
  absl::Duration timeout = absl::ZeroDuration();
  std::vector<common::HostCredential> credentials;
  std::shared_ptr<const ActionMessages> messages;  // may be null
};

// An action an executor runs now (for the status page).
struct RunningAction {
  std::string kind;    // step kind, "" for plain REAPI actions
  std::string action;  // digest "hash/size"
  std::string group;   // the build (or REAPI client) it belongs to
  int attempt = 0;
  absl::Time leased_at;
};

struct WorkerInfo {
  std::string id, name, peer;
  Properties properties;
  int slots = 0;
  int busy = 0;
  absl::Time connected;
  std::vector<RunningAction> running;  // filled by Stats()
};

struct SchedulerStats {
  int64_t queued = 0;
  int64_t running = 0;
  int64_t groups = 0;  // groups with queued or running actions
  std::vector<WorkerInfo> workers;
  // Queued actions per fairness group (a build, or a REAPI client).
  std::map<std::string, int64_t> queued_by_group;
};

class Scheduler {
 public:
  Scheduler(common::Clock* clock, const SchedulerOptions& options,
            SchedulerObserver* observer = nullptr);

  struct Submitted {
    std::shared_ptr<Operation> op;
    bool joined = false;
  };
  // Queues `action` (or joins it). Every Submit must be paired with a
  // Release once the caller no longer waits.
  Submitted Submit(const common::Digest& action, const SubmitOptions& options);
  // Joins the execution of `action` in flight (same skip_cache_lookup), if
  // there is one; nullopt (and nothing changes) otherwise. A joined caller
  // needs no admission: the same digest is the same Action. Paired with
  // Release like Submit.
  std::optional<Submitted> Join(const common::Digest& action,
                                bool skip_cache_lookup,
                                const std::string& kind);
  void Release(const std::shared_ptr<Operation>& op);

  // An operation by name (in flight, or completed recently).
  std::shared_ptr<Operation> Find(const std::string& name);

  std::string AddWorker(const std::string& name, const Properties& properties,
                        int slots, const std::string& peer);
  // Requeues the worker's leases; its NextWork calls return UNAVAILABLE.
  void RemoveWorker(const std::string& worker_id, const std::string& reason);
  // The executor is alive and runs `lease_ids`: a lease it holds but has
  // not reported for worker_timeout is requeued by Tick (the executor lost
  // it: restarted, or dropped a lease message).
  void Heartbeat(const std::string& worker_id,
                 const std::vector<std::string>& lease_ids);
  // Any message but a heartbeat: alive, nothing said about leases.
  void Seen(const std::string& worker_id);
  // Waits up to `max_wait` (real time) for work for this worker: a lease
  // (when it has a free slot) or a cancellation. nullopt on timeout;
  // UNAVAILABLE once the worker was removed.
  absl::StatusOr<std::optional<WorkItem>> NextWork(const std::string& worker_id,
                                                   absl::Duration max_wait);
  // The result of a lease. `retryable`: the executor failed, not the
  // action (lost inputs, full disk, unverifiable result): the action is
  // requeued within the retry cap. NOT_FOUND for a lease that is no longer
  // this worker's (requeued after a timeout; the late result is ignored).
  absl::Status Complete(const std::string& worker_id,
                        const std::string& lease_id,
                        absl::StatusOr<common::ActionOutcome> outcome,
                        bool retryable);

  // The action a lease is for, if `worker_id` holds it (nullopt for an
  // unknown lease or another worker's: nothing of such a completion may
  // reach the Action Cache).
  std::optional<LeasedActionInfo> LeasedAction(const std::string& worker_id,
                                               const std::string& lease_id);

  // Expires silent workers, unmatched actions and old operations.
  void Tick();

  SchedulerStats Stats();

 private:
  struct Entry {
    std::shared_ptr<Operation> op;
    Properties platform;
    std::string group;
    std::string kind;
    bool do_not_cache = false;
    absl::Duration timeout;
    std::vector<common::HostCredential> credentials;
    std::shared_ptr<const ActionMessages> messages;
    int attempts = 0;
    int waiters = 0;
    absl::Time queued_at;
    absl::Time leased_at;
    absl::Time reported_at;  // leased, or last named in a heartbeat
    std::string lease_id;
    std::string worker_id;
    bool cancelled = false;
    // A cancel reached its executor, then a caller joined: the CANCELLED
    // result that comes back is requeued, not reported.
    bool cancel_sent = false;
    // Executors that failed it (retryable faults): it goes elsewhere while
    // another matching executor is registered.
    std::set<std::string> failed_on;
  };
  struct Worker {
    WorkerInfo info;
    std::set<std::string> leases;
    std::deque<std::string> cancels;  // lease ids to cancel
    absl::Time last_seen;
    absl::Time cooldown_until = absl::InfinitePast();
    // NextWork sleeps until `wakes` changes (or a tick, or a removal);
    // `waiting` while it does. Work wakes one idle worker that can take it,
    // not every worker (a herd woken per submit cost more CPU than the
    // scheduling itself).
    int64_t wakes = 0;
    bool waiting = false;
  };

  Submitted JoinLocked(const std::shared_ptr<Entry>& e, const std::string& kind)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveWorkerLocked(const std::string& worker_id,
                          const std::string& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tick's work; `dropped` gets a log line per executor dropped.
  void TickLocked(absl::Time now, std::vector<std::string>* dropped)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RequeueLocked(const std::shared_ptr<Entry>& e, const std::string& why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const std::shared_ptr<Entry>& e,
                    absl::StatusOr<common::ActionOutcome> outcome)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveFromQueueLocked(const std::shared_ptr<Entry>& e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<WorkItem> TakeWorkLocked(Worker& w)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `w` may run `e`: its platform matches, and `e` did not fail on
  // `w` unless no other matching worker is registered.
  bool MayRunLocked(const Worker& w, const Entry& e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `w` has a free slot and is not cooling down.
  bool HasRoomLocked(const Worker& w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes w's NextWork (if it waits).
  void WakeLocked(Worker& w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes one waiting worker that can take `e` now, the next after the one
  // woken last (so leases spread over executors); none if none can.
  void WakeOneForLocked(const Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AnyWorkerMatchesLocked(const Properties& platform)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  common::Clock* clock_;
  const SchedulerOptions options_;
  SchedulerObserver* observer_;
  SchedulerObserver null_observer_;

  absl::Mutex mu_;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::string salt_;
  std::map<std::string, std::shared_ptr<Entry>> inflight_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::deque<std::shared_ptr<Entry>>> queues_
      ABSL_GUARDED_BY(mu_);
  std::string last_group_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<Entry>> leases_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Worker> workers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<Operation>> ops_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, std::string>> completed_
      ABSL_GUARDED_BY(mu_);
  std::string last_woken_ ABSL_GUARDED_BY(mu_);  // a worker id
  int64_t removals_ ABSL_GUARDED_BY(mu_) = 0;    // bumped per worker removed
  int64_t ticks_ ABSL_GUARDED_BY(mu_) = 0;       // bumped by every Tick()
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_SCHEDULER_H_
