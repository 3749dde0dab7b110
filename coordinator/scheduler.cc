#include "coordinator/scheduler.h"

#include <sys/random.h>

#include <algorithm>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"

namespace pbrx::coordinator {

bool PlatformMatches(const Properties& wanted, const Properties& offered) {
  for (const auto& [name, value] : wanted) {
    bool ok = false;
    for (const auto& [n, v] : offered) {
      if (n == name && (v == value || v == "*")) {
        ok = true;
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

std::string PropertiesText(const Properties& p) {
  if (p.empty()) return "(none)";
  std::vector<std::string> parts;
  for (const auto& [n, v] : p) parts.push_back(absl::StrCat(n, "=", v));
  return absl::StrJoin(parts, ",");
}

Stage Operation::stage() const {
  absl::MutexLock lock(&mu_);
  return stage_;
}

Stage Operation::WaitForChange(Stage seen, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto changed = [this, seen]()
                     ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stage_ != seen; };
  mu_.AwaitWithDeadline(absl::Condition(&changed), deadline);
  return stage_;
}

absl::StatusOr<common::ActionOutcome> Operation::Wait(
    absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return stage_ == Stage::kCompleted;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&done), deadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat("operation ", name_, " did not finish in time"));
  }
  return outcome_;
}

absl::StatusOr<common::ActionOutcome> Operation::outcome() const {
  absl::MutexLock lock(&mu_);
  return outcome_;
}

void Operation::SetStage(Stage s) {
  absl::MutexLock lock(&mu_);
  stage_ = s;
}

void Operation::Finish(absl::StatusOr<common::ActionOutcome> outcome) {
  absl::MutexLock lock(&mu_);
  outcome_ = std::move(outcome);
  stage_ = Stage::kCompleted;
}

Scheduler::Scheduler(common::Clock* clock, const SchedulerOptions& options,
                     SchedulerObserver* observer)
    : clock_(clock),
      options_(options),
      observer_(observer != nullptr ? observer : &null_observer_) {
  absl::BitGen gen;
  salt_ = absl::StrFormat("%08x", absl::Uniform<uint32_t>(gen));
}

namespace {

// 128 random bits from the kernel, as hex: a lease id another executor
// cannot guess.
std::string UnguessableId() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

// Executions are joined only with one of the same kind (a forced re-run is
// not answered by a run that may have been a cache hit, and vice versa).
std::string InflightKey(const common::Digest& action, bool skip_cache_lookup) {
  return absl::StrCat(action.ToString(), skip_cache_lookup ? "!" : "");
}

}  // namespace

Scheduler::Submitted Scheduler::JoinLocked(const std::shared_ptr<Entry>& e,
                                           const std::string& kind) {
  e->waiters++;
  if (e->cancelled) {
    // Its last caller left while it ran; this one wants it after all.
    e->cancelled = false;
    auto w = workers_.find(e->worker_id);
    if (w != workers_.end()) {
      auto& cancels = w->second.cancels;
      auto c = std::find(cancels.begin(), cancels.end(), e->lease_id);
      if (c != cancels.end()) {
        cancels.erase(c);  // not sent yet: the run goes on
      } else {
        e->cancel_sent = true;  // sent: its CANCELLED result is requeued
      }
    }
  }
  observer_->Joined(kind);
  return {e->op, true};
}

std::optional<Scheduler::Submitted> Scheduler::Join(
    const common::Digest& action, bool skip_cache_lookup,
    const std::string& kind) {
  absl::MutexLock lock(&mu_);
  auto it = inflight_.find(InflightKey(action, skip_cache_lookup));
  if (it == inflight_.end()) return std::nullopt;
  return JoinLocked(it->second, kind);
}

Scheduler::Submitted Scheduler::Submit(const common::Digest& action,
                                       const SubmitOptions& options) {
  const std::string& kind = options.kind;
  absl::MutexLock lock(&mu_);
  std::string key = InflightKey(action, options.skip_cache_lookup);
  auto it = inflight_.find(key);
  if (it != inflight_.end()) return JoinLocked(it->second, kind);
  auto e = std::make_shared<Entry>();
  e->op = std::make_shared<Operation>(
      absl::StrCat("operations/", salt_, "-", next_id_++), action);
  e->op->key_ = key;
  e->platform = options.platform;
  std::sort(e->platform.begin(), e->platform.end());
  e->group = options.group;
  e->kind = kind;
  e->do_not_cache = options.do_not_cache;
  e->timeout = options.timeout;
  e->credentials = options.credentials;
  e->messages = options.messages;
  e->waiters = 1;
  e->queued_at = clock_->Now();
  inflight_[key] = e;
  ops_[e->op->name()] = e->op;
  queues_[options.group].push_back(e);
  observer_->Queued(kind);
  WakeOneForLocked(*e);
  return {e->op, false};
}

void Scheduler::Release(const std::shared_ptr<Operation>& op) {
  absl::MutexLock lock(&mu_);
  auto it = inflight_.find(op->key_);
  if (it == inflight_.end() || it->second->op != op) return;  // finished
  std::shared_ptr<Entry> e = it->second;
  if (--e->waiters > 0) return;
  if (e->lease_id.empty()) {
    RemoveFromQueueLocked(e);
    FinishLocked(e, absl::CancelledError("no caller waits for it any more"));
  } else {
    // Running: ask its executor to stop; the lease ends with its result.
    e->cancelled = true;
    auto w = workers_.find(e->worker_id);
    if (w != workers_.end()) {
      w->second.cancels.push_back(e->lease_id);
      WakeLocked(w->second);
    }
  }
}

std::shared_ptr<Operation> Scheduler::Find(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second;
}

std::string Scheduler::AddWorker(const std::string& name,
                                 const Properties& properties, int slots,
                                 const std::string& peer) {
  absl::MutexLock lock(&mu_);
  std::string id = absl::StrCat("worker-", salt_, "-", next_id_++);
  Worker w;
  w.info.id = id;
  w.info.name = name;
  w.info.peer = peer;
  w.info.properties = properties;
  w.info.slots = std::max(1, slots);
  w.info.connected = clock_->Now();
  w.last_seen = clock_->Now();
  workers_[id] = std::move(w);
  return id;
}

void Scheduler::RemoveWorker(const std::string& worker_id,
                             const std::string& reason) {
  absl::MutexLock lock(&mu_);
  RemoveWorkerLocked(worker_id, reason);
}

void Scheduler::RemoveWorkerLocked(const std::string& worker_id,
                                   const std::string& reason) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  std::set<std::string> leases = it->second.leases;
  std::string name = it->second.info.name;
  workers_.erase(it);
  for (const std::string& l : leases) {
    auto le = leases_.find(l);
    if (le == leases_.end()) continue;
    std::shared_ptr<Entry> e = le->second;
    leases_.erase(le);
    observer_->AttemptFinished(e->kind, "failed", clock_->Now() - e->leased_at);
    RequeueLocked(e,
                  absl::StrCat("executor ", name, " was lost (", reason, ")"));
  }
  // Its NextWork returns; the others look again (what failed elsewhere
  // may be theirs now).
  ++removals_;
}

void Scheduler::Seen(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  auto it = workers_.find(worker_id);
  if (it != workers_.end()) it->second.last_seen = clock_->Now();
}

void Scheduler::Heartbeat(const std::string& worker_id,
                          const std::vector<std::string>& lease_ids) {
  absl::MutexLock lock(&mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  const absl::Time now = clock_->Now();
  it->second.last_seen = now;
  for (const std::string& id : lease_ids) {
    auto le = leases_.find(id);
    if (le != leases_.end() && le->second->worker_id == worker_id)
      le->second->reported_at = now;
  }
}

void Scheduler::RequeueLocked(const std::shared_ptr<Entry>& e,
                              const std::string& why) {
  e->lease_id.clear();
  e->worker_id.clear();
  if (e->cancelled) {
    FinishLocked(e, absl::CancelledError("no caller waits for it any more"));
    return;
  }
  if (e->attempts >= options_.max_attempts) {
    FinishLocked(e, absl::UnavailableError(absl::StrCat(
                        why, "; gave up after ", e->attempts,
                        " attempts (retry cap ", options_.max_attempts, ")")));
    return;
  }
  observer_->Retried(e->kind);
  e->op->SetStage(Stage::kQueued);
  e->queued_at = clock_->Now();
  queues_[e->group].push_front(e);
  WakeOneForLocked(*e);
}

void Scheduler::FinishLocked(const std::shared_ptr<Entry>& e,
                             absl::StatusOr<common::ActionOutcome> outcome) {
  auto it = inflight_.find(e->op->key_);
  if (it != inflight_.end() && it->second == e) inflight_.erase(it);
  completed_.emplace_back(clock_->Now(), e->op->name());
  observer_->Finished(e->kind,
                      outcome.ok() ? "executed"
                      : outcome.status().code() == absl::StatusCode::kCancelled
                          ? "cancelled"
                          : "failed");
  e->op->Finish(std::move(outcome));
}

void Scheduler::RemoveFromQueueLocked(const std::shared_ptr<Entry>& e) {
  auto q = queues_.find(e->group);
  if (q == queues_.end()) return;
  auto& dq = q->second;
  dq.erase(std::remove(dq.begin(), dq.end(), e), dq.end());
  if (dq.empty()) queues_.erase(q);
}

bool Scheduler::MayRunLocked(const Worker& w, const Entry& e) {
  if (!PlatformMatches(e.platform, w.info.properties)) return false;
  if (e.failed_on.count(w.info.id) == 0) return true;
  for (const auto& [id, other] : workers_) {
    if (e.failed_on.count(id) == 0 &&
        PlatformMatches(e.platform, other.info.properties))
      return false;  // another may run it
  }
  return true;
}

bool Scheduler::HasRoomLocked(const Worker& w) {
  return static_cast<int>(w.leases.size()) < w.info.slots &&
         clock_->Now() >= w.cooldown_until;
}

void Scheduler::WakeLocked(Worker& w) {
  if (!w.waiting) return;
  w.waiting = false;
  ++w.wakes;
}

void Scheduler::WakeOneForLocked(const Entry& e) {
  auto it = workers_.upper_bound(last_woken_);
  for (size_t n = 0; n < workers_.size(); ++n, ++it) {
    if (it == workers_.end()) it = workers_.begin();
    Worker& w = it->second;
    if (w.waiting && HasRoomLocked(w) && MayRunLocked(w, e)) {
      WakeLocked(w);
      last_woken_ = it->first;
      return;
    }
  }
}

std::optional<WorkItem> Scheduler::TakeWorkLocked(Worker& w) {
  if (!w.cancels.empty()) {
    WorkItem item;
    item.kind = WorkItem::Kind::kCancel;
    item.lease_id = w.cancels.front();
    w.cancels.pop_front();
    return item;
  }
  if (queues_.empty() || !HasRoomLocked(w)) return std::nullopt;
  // Round-robin over groups, starting after the last one served.
  std::vector<std::string> order;
  for (auto it = queues_.upper_bound(last_group_); it != queues_.end(); ++it)
    order.push_back(it->first);
  for (auto it = queues_.begin();
       it != queues_.end() && it->first <= last_group_; ++it)
    order.push_back(it->first);
  for (const std::string& group : order) {
    auto& dq = queues_[group];
    for (auto it = dq.begin(); it != dq.end(); ++it) {
      std::shared_ptr<Entry> e = *it;
      if (!MayRunLocked(w, *e)) continue;
      dq.erase(it);
      if (dq.empty()) queues_.erase(group);
      last_group_ = group;
      e->attempts++;
      e->lease_id = UnguessableId();
      e->worker_id = w.info.id;
      e->leased_at = clock_->Now();
      e->reported_at = e->leased_at;
      leases_[e->lease_id] = e;
      w.leases.insert(e->lease_id);
      e->op->SetStage(Stage::kExecuting);
      observer_->Leased(e->kind, e->leased_at - e->queued_at);
      WorkItem item;
      item.lease_id = e->lease_id;
      item.action = e->op->action();
      item.attempt = e->attempts;
      item.timeout = e->timeout;
      item.credentials = e->credentials;
      item.messages = e->messages;
      return item;
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<WorkItem>> Scheduler::NextWork(
    const std::string& worker_id, absl::Duration max_wait) {
  const absl::Time deadline = clock_->Now() + max_wait;
  absl::MutexLock lock(&mu_);
  while (true) {
    auto it = workers_.find(worker_id);
    if (it == workers_.end()) {
      return absl::UnavailableError(
          absl::StrCat(worker_id, " is not registered"));
    }
    Worker& w = it->second;
    std::optional<WorkItem> item = TakeWorkLocked(w);
    if (item.has_value()) return item;
    const int64_t wakes = w.wakes, removals = removals_, ticks = ticks_;
    // Removal first: a removed worker's entry is gone.
    auto woken = [this, &w, wakes, removals]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                     mu_) { return removals_ != removals || w.wakes != wakes; };
    auto changed = [this, &woken, ticks]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return woken() || ticks_ != ticks;
    };
    w.waiting = true;
    // absl's timed wait sleeps until a wall-clock deadline, which a wall
    // clock stepped back would push away: each Tick() also wakes the wait,
    // and the deadline is checked on the injected (monotonic) clock.
    const bool signalled = mu_.AwaitWithTimeout(absl::Condition(&changed),
                                                deadline - clock_->Now());
    if (auto again = workers_.find(worker_id); again != workers_.end())
      again->second.waiting = false;
    if (!signalled || (!woken() && clock_->Now() >= deadline)) {
      return std::optional<WorkItem>();
    }
  }
}

absl::Status Scheduler::Complete(const std::string& worker_id,
                                 const std::string& lease_id,
                                 absl::StatusOr<common::ActionOutcome> outcome,
                                 bool retryable) {
  absl::MutexLock lock(&mu_);
  auto le = leases_.find(lease_id);
  if (le == leases_.end() || le->second->worker_id != worker_id) {
    return absl::NotFoundError(
        absl::StrCat("lease ", lease_id, " is not held by ", worker_id,
                     " (it was requeued or finished); the result is ignored"));
  }
  std::shared_ptr<Entry> e = le->second;
  leases_.erase(le);
  auto w = workers_.find(worker_id);
  std::string worker_name = worker_id;
  if (w != workers_.end()) {
    w->second.leases.erase(lease_id);
    worker_name = w->second.info.name;
    WakeLocked(w->second);  // a slot is free
  }
  absl::Duration run_time = clock_->Now() - e->leased_at;
  if (e->cancel_sent && !e->cancelled && !outcome.ok() &&
      outcome.status().code() == absl::StatusCode::kCancelled) {
    // Cancelled for a caller who left, while another joined: run again.
    e->cancel_sent = false;
    observer_->AttemptFinished(e->kind, "failed", run_time);
    e->attempts--;  // not the executor's fault nor the action's
    RequeueLocked(e, "cancelled while a new caller joined");
    return absl::OkStatus();
  }
  if (!outcome.ok() && retryable) {
    observer_->AttemptFinished(e->kind, "failed", run_time);
    e->failed_on.insert(worker_id);
    if (w != workers_.end())
      w->second.cooldown_until = clock_->Now() + options_.fault_cooldown;
    RequeueLocked(e, absl::StrCat("executor ", worker_name,
                                  " failed it: ", outcome.status().message()));
    return absl::OkStatus();
  }
  observer_->AttemptFinished(e->kind, outcome.ok() ? "succeeded" : "failed",
                             run_time);
  FinishLocked(e, std::move(outcome));
  return absl::OkStatus();
}

std::optional<LeasedActionInfo> Scheduler::LeasedAction(
    const std::string& worker_id, const std::string& lease_id) {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(lease_id);
  if (it == leases_.end() || it->second->worker_id != worker_id)
    return std::nullopt;
  return LeasedActionInfo{it->second->op->action(), it->second->do_not_cache};
}

bool Scheduler::AnyWorkerMatchesLocked(const Properties& platform) {
  for (const auto& [id, w] : workers_) {
    if (PlatformMatches(platform, w.info.properties)) return true;
  }
  return false;
}

void Scheduler::Tick() {
  const absl::Time now = clock_->Now();
  std::vector<std::string> dropped;  // logged once the lock is released
  {
    absl::MutexLock lock(&mu_);
    TickLocked(now, &dropped);
  }
  for (const std::string& line : dropped) common::LogWarning(line);
}

void Scheduler::TickLocked(absl::Time now, std::vector<std::string>* dropped) {
  ++ticks_;  // wakes NextWork() waits to check their deadline
  std::vector<std::pair<std::string, std::string>> silent;  // id, name
  for (const auto& [id, w] : workers_) {
    if (now - w.last_seen > options_.worker_timeout)
      silent.emplace_back(id, w.info.name);
  }
  for (const auto& [id, name] : silent) {
    const std::string why = absl::StrCat(
        "no heartbeat for ", absl::FormatDuration(options_.worker_timeout));
    RemoveWorkerLocked(id, why);
    dropped->push_back(
        absl::StrCat("executor ", name, " (", id, ") dropped: ", why));
  }
  // Leases their executor no longer reports, or that outlived their
  // deadline: taken back (the executor is told to drop the latter).
  std::vector<std::pair<std::shared_ptr<Entry>, std::string>> expired;
  for (const auto& [lease_id, e] : leases_) {
    absl::Duration timeout = e->timeout > absl::ZeroDuration()
                                 ? e->timeout
                                 : options_.default_action_timeout;
    if (now - e->leased_at > timeout + options_.lease_grace) {
      expired.emplace_back(
          e, absl::StrCat("lease ran past its deadline (",
                          absl::FormatDuration(timeout), " + ",
                          absl::FormatDuration(options_.lease_grace), ")"));
    } else if (now - e->reported_at > options_.worker_timeout) {
      expired.emplace_back(
          e, absl::StrCat("its executor stopped reporting the lease for ",
                          absl::FormatDuration(options_.worker_timeout)));
    }
  }
  for (auto& [e, why] : expired) {
    auto w = workers_.find(e->worker_id);
    std::string worker_name = e->worker_id;
    if (w != workers_.end()) {
      w->second.leases.erase(e->lease_id);
      w->second.cancels.push_back(e->lease_id);
      worker_name = w->second.info.name;
    }
    leases_.erase(e->lease_id);
    observer_->AttemptFinished(e->kind, "failed", now - e->leased_at);
    e->cancel_sent = false;
    RequeueLocked(e, absl::StrCat("executor ", worker_name, ": ", why));
  }
  std::vector<std::shared_ptr<Entry>> unmatched;
  for (const auto& [group, dq] : queues_) {
    for (const auto& e : dq) {
      if (now - e->queued_at > options_.unmatched_timeout &&
          !AnyWorkerMatchesLocked(e->platform)) {
        unmatched.push_back(e);
      }
    }
  }
  for (const auto& e : unmatched) {
    RemoveFromQueueLocked(e);
    FinishLocked(
        e, absl::FailedPreconditionError(absl::StrCat(
               "no executor offers platform ", PropertiesText(e->platform),
               " (waited ", absl::FormatDuration(options_.unmatched_timeout),
               ")")));
  }
  while (!completed_.empty() &&
         now - completed_.front().first > options_.completed_retention) {
    auto it = ops_.find(completed_.front().second);
    if (it != ops_.end() && it->second->stage() == Stage::kCompleted)
      ops_.erase(it);
    completed_.pop_front();
  }
}

SchedulerStats Scheduler::Stats() {
  absl::MutexLock lock(&mu_);
  SchedulerStats s;
  std::set<std::string> groups;
  for (const auto& [g, dq] : queues_) {
    s.queued += dq.size();
    s.queued_by_group[g] += static_cast<int64_t>(dq.size());
    groups.insert(g);
  }
  s.running = leases_.size();
  for (const auto& [l, e] : leases_) groups.insert(e->group);
  s.groups = groups.size();
  for (const auto& [id, w] : workers_) {
    WorkerInfo info = w.info;
    info.busy = w.leases.size();
    for (const std::string& l : w.leases) {
      auto le = leases_.find(l);
      if (le == leases_.end()) continue;
      const Entry& e = *le->second;
      info.running.push_back(RunningAction{e.kind, e.op->action().ToString(),
                                           e.group, e.attempts, e.leased_at});
    }
    s.workers.push_back(info);
  }
  return s;
}

}  // namespace pbrx::coordinator
