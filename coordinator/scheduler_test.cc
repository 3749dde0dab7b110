#include "coordinator/scheduler.h"

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

using common::Digest;
using ::testing::HasSubstr;

class CountingObserver : public SchedulerObserver {
 public:
  void Queued(const std::string&) override { ++queued; }
  void Joined(const std::string&) override { ++joined; }
  void Leased(const std::string&, absl::Duration) override { ++leased; }
  void Retried(const std::string& kind) override {
    ++retried;
    last_kind = kind;
  }
  void AttemptFinished(const std::string&, const std::string& r,
                       absl::Duration) override {
    ++attempts[r];
  }
  void Finished(const std::string&, const std::string& o) override {
    ++finished[o];
  }
  std::string last_kind;
  int queued = 0, joined = 0, leased = 0, retried = 0;
  std::map<std::string, int> attempts, finished;
};

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() : scheduler_(&clock_, Options(), &observer_) {}
  static SchedulerOptions Options() {
    SchedulerOptions o;
    o.max_attempts = 3;
    o.worker_timeout = absl::Seconds(30);
    o.unmatched_timeout = absl::Seconds(60);
    return o;
  }
  Scheduler::Submitted Submit(const std::string& name,
                              const std::string& group = "g",
                              Properties platform = {}) {
    SubmitOptions o;
    o.platform = platform;
    o.group = group;
    o.kind = "wheel-build";
    return scheduler_.Submit(Digest::Of(name), o);
  }
  std::optional<WorkItem> Next(const std::string& worker) {
    auto r = scheduler_.NextWork(worker, absl::Milliseconds(10));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::nullopt;
  }
  static common::ActionOutcome Exit(int code) {
    common::ActionOutcome o;
    o.result.set_exit_code(code);
    return o;
  }

  common::FakeClock clock_;
  CountingObserver observer_;
  Scheduler scheduler_;
};

TEST_F(SchedulerTest, JoinTakesOnlyARunInFlight) {
  // Nothing in flight: no join, and nothing is queued by asking.
  EXPECT_FALSE(scheduler_.Join(Digest::Of("x"), false, "wheel-build"));
  EXPECT_EQ(scheduler_.Stats().queued, 0);
  EXPECT_EQ(observer_.joined, 0);
  auto a = Submit("x");
  // A forced re-run is another execution.
  EXPECT_FALSE(scheduler_.Join(Digest::Of("x"), true, "wheel-build"));
  std::optional<Scheduler::Submitted> b =
      scheduler_.Join(Digest::Of("x"), false, "wheel-build");
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->joined);
  EXPECT_EQ(b->op, a.op);
  EXPECT_EQ(observer_.joined, 1);
  EXPECT_EQ(scheduler_.Stats().queued, 1);
  // The joined caller keeps it alive when the first one leaves.
  scheduler_.Release(a.op);
  std::string w = scheduler_.AddWorker("e1", {}, 1, "peer");
  auto item = Next(w);
  ASSERT_TRUE(item.has_value());
  ASSERT_TRUE(scheduler_.Complete(w, item->lease_id, Exit(0), false).ok());
  auto out = b->op->Wait(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->result.exit_code(), 0);
  scheduler_.Release(b->op);
  // Completed: nothing to join any more.
  EXPECT_FALSE(scheduler_.Join(Digest::Of("x"), false, "wheel-build"));
}

TEST(PlatformMatchesTest, ExactOrWildcard) {
  Properties offered = {
      {"network", "none"}, {"network", "egress"}, {"rootfs", "*"}};
  EXPECT_TRUE(PlatformMatches({}, offered));
  EXPECT_TRUE(
      PlatformMatches({{"network", "egress"}, {"rootfs", "a,b"}}, offered));
  EXPECT_FALSE(PlatformMatches({{"capture", "rootfs-diff"}}, offered));
  EXPECT_FALSE(PlatformMatches({{"network", "host"}}, offered));
  EXPECT_EQ(PropertiesText({{"a", "1"}, {"b", "2"}}), "a=1,b=2");
}

TEST_F(SchedulerTest, SameActionIsJoinedAndRunsOnce) {
  auto a = Submit("x", "build-1");
  auto b = Submit("x", "build-2");
  EXPECT_FALSE(a.joined);
  EXPECT_TRUE(b.joined);
  EXPECT_EQ(a.op, b.op);
  std::string w = scheduler_.AddWorker("e1", {}, 4, "peer");
  auto item = Next(w);
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(item->action, Digest::Of("x"));
  EXPECT_EQ(item->attempt, 1);
  EXPECT_FALSE(Next(w).has_value());  // nothing else queued
  EXPECT_EQ(a.op->stage(), Stage::kExecuting);
  ASSERT_TRUE(scheduler_.Complete(w, item->lease_id, Exit(7), false).ok());
  auto out = b.op->Wait(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->result.exit_code(), 7);
  EXPECT_EQ(observer_.queued, 1);
  EXPECT_EQ(observer_.joined, 1);
  EXPECT_EQ(observer_.finished["executed"], 1);
  EXPECT_EQ(observer_.attempts["succeeded"], 1);
  EXPECT_EQ(observer_.finished.size(), 1u);  // counted once, not per caller
  // After completion the same digest is a new execution.
  EXPECT_FALSE(Submit("x").joined);
  // Found by name for WaitExecution.
  EXPECT_EQ(scheduler_.Find(a.op->name()), a.op);
}

TEST_F(SchedulerTest, RoundRobinBetweenGroupsIsFair) {
  for (int i = 0; i < 100; ++i) Submit(absl::StrCat("big-", i), "big");
  Submit("small-0", "small");
  Submit("small-1", "small");
  std::string w = scheduler_.AddWorker("e1", {}, 1000, "peer");
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    auto item = Next(w);
    ASSERT_TRUE(item.has_value());
    order.push_back(item->action == Digest::Of("small-0")   ? "s0"
                    : item->action == Digest::Of("small-1") ? "s1"
                                                            : "big");
  }
  // The small build gets every other lease, not the 101st and 102nd.
  EXPECT_EQ(order, (std::vector<std::string>{"big", "s0", "big", "s1"}));
  EXPECT_EQ(scheduler_.Stats().queued, 98);
  EXPECT_EQ(scheduler_.Stats().running, 4);
}

TEST_F(SchedulerTest, SlotsAndPlatformAreRespected) {
  Submit("egress", "g", {{"network", "egress"}});
  Submit("a");
  Submit("b");
  std::string plain =
      scheduler_.AddWorker("plain", {{"network", "none"}}, 1, "p");
  auto first = Next(plain);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->action, Digest::Of("a"));  // egress skipped: no match
  EXPECT_FALSE(Next(plain).has_value());      // its one slot is busy
  std::string net = scheduler_.AddWorker(
      "net", {{"network", "none"}, {"network", "egress"}}, 1, "n");
  auto second = Next(net);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->action, Digest::Of("egress"));
  ASSERT_TRUE(scheduler_.Complete(plain, first->lease_id, Exit(0), false).ok());
  auto third = Next(plain);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->action, Digest::Of("b"));
}

TEST_F(SchedulerTest, LostExecutorsLeasesAreRequeuedUpToTheCap) {
  auto s = Submit("wheel");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    std::string w =
        scheduler_.AddWorker(absl::StrCat("e", attempt), {}, 1, "p");
    auto item = Next(w);
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(item->attempt, attempt);
    scheduler_.RemoveWorker(w, "stream closed");
    EXPECT_EQ(scheduler_.NextWork(w, absl::Milliseconds(1)).status().code(),
              absl::StatusCode::kUnavailable);
  }
  auto out = s.op->Wait(absl::Now() + absl::Seconds(1));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("executor e3 was lost (stream closed); gave up after 3 "
                        "attempts (retry cap 3)"));
  EXPECT_EQ(observer_.retried, 2);
  EXPECT_EQ(observer_.last_kind, "wheel-build");
  // Three failed attempts, one failed step: the outcomes partition steps.
  EXPECT_EQ(observer_.attempts["failed"], 3);
  EXPECT_EQ(observer_.finished["failed"], 1);
  EXPECT_EQ(observer_.finished.size(), 1u);
}

TEST_F(SchedulerTest, SilentExecutorIsExpiredAndItsWorkMoves) {
  auto s = Submit("wheel");
  std::string silent = scheduler_.AddWorker("silent", {}, 1, "p");
  auto item = Next(silent);
  ASSERT_TRUE(item.has_value());
  std::string alive = scheduler_.AddWorker("alive", {}, 1, "p");
  clock_.Advance(absl::Seconds(20));
  scheduler_.Heartbeat(alive, {});
  clock_.Advance(absl::Seconds(11));
  scheduler_.Tick();  // silent: 31 s without a word
  auto again = Next(alive);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->action, Digest::Of("wheel"));
  EXPECT_EQ(again->attempt, 2);
  // The late result of the lost lease is refused, the new one counts.
  absl::Status late =
      scheduler_.Complete(silent, item->lease_id, Exit(1), false);
  EXPECT_EQ(late.code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(scheduler_.Complete(alive, again->lease_id, Exit(0), false).ok());
  EXPECT_EQ(s.op->Wait(absl::Now())->result.exit_code(), 0);
}

TEST_F(SchedulerTest, RetryableFailureRequeues) {
  auto s = Submit("x");
  std::string w = scheduler_.AddWorker("e", {}, 1, "p");
  auto item = Next(w);
  ASSERT_TRUE(scheduler_
                  .Complete(w, item->lease_id,
                            absl::ResourceExhaustedError("disk full"), true)
                  .ok());
  EXPECT_EQ(s.op->stage(), Stage::kQueued);
  // The executor sits out its fault cooldown first.
  EXPECT_FALSE(Next(w).has_value());
  clock_.Advance(absl::Seconds(11));
  scheduler_.Heartbeat(w, {});
  auto retry = Next(w);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->attempt, 2);
  // A non-retryable error ends the operation with it.
  ASSERT_TRUE(scheduler_
                  .Complete(w, retry->lease_id,
                            absl::InvalidArgumentError("bad action"), false)
                  .ok());
  EXPECT_EQ(s.op->Wait(absl::Now()).status().message(), "bad action");
}

TEST_F(SchedulerTest, RetryAvoidsTheExecutorThatFailed) {
  auto s = Submit("x");
  std::string sick = scheduler_.AddWorker("sick", {}, 2, "p");
  auto first = Next(sick);
  ASSERT_TRUE(first.has_value());
  std::string healthy = scheduler_.AddWorker("healthy", {}, 1, "p");
  ASSERT_TRUE(scheduler_
                  .Complete(sick, first->lease_id,
                            absl::ResourceExhaustedError("No space left"), true)
                  .ok());
  EXPECT_FALSE(Next(sick).has_value());  // not back to the sick one
  auto second = Next(healthy);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->attempt, 2);
  // With no other executor left, the sick one may try again.
  ASSERT_TRUE(scheduler_
                  .Complete(healthy, second->lease_id,
                            absl::UnavailableError("lost inputs"), true)
                  .ok());
  scheduler_.RemoveWorker(healthy, "gone");
  clock_.Advance(absl::Seconds(11));  // past the sick one's cooldown
  scheduler_.Heartbeat(sick, {});
  auto third = Next(sick);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->attempt, 3);
}

TEST_F(SchedulerTest, UnmatchableActionFailsAfterTimeout) {
  auto s = Submit("gpu", "g", {{"gpu", "yes"}});
  auto ok = Submit("fine");
  std::string w = scheduler_.AddWorker("e", {{"gpu", "no"}}, 1, "p");
  clock_.Advance(absl::Seconds(29));
  scheduler_.Heartbeat(w, {});
  clock_.Advance(absl::Seconds(29));
  scheduler_.Heartbeat(w, {});
  scheduler_.Tick();
  EXPECT_EQ(s.op->stage(), Stage::kQueued);
  clock_.Advance(absl::Seconds(3));
  scheduler_.Heartbeat(w, {});
  scheduler_.Tick();
  auto out = s.op->Wait(absl::Now());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(out.status().message(),
            "no executor offers platform gpu=yes (waited 1m)");
  // A matchable action keeps waiting even when it is old.
  EXPECT_EQ(ok.op->stage(), Stage::kQueued);
}

TEST_F(SchedulerTest, ReleasedQueuedActionIsDroppedRunningOneCancelled) {
  auto queued = Submit("q");
  auto joined = Submit("q");
  scheduler_.Release(queued.op);
  EXPECT_EQ(queued.op->stage(), Stage::kQueued);  // still one waiter
  scheduler_.Release(joined.op);
  EXPECT_EQ(queued.op->Wait(absl::Now()).status().code(),
            absl::StatusCode::kCancelled);
  auto running = Submit("r");
  std::string w = scheduler_.AddWorker("e", {}, 2, "p");
  auto item = Next(w);
  ASSERT_TRUE(item.has_value());
  scheduler_.Release(running.op);
  auto cancel = Next(w);
  ASSERT_TRUE(cancel.has_value());
  EXPECT_EQ(cancel->kind, WorkItem::Kind::kCancel);
  EXPECT_EQ(cancel->lease_id, item->lease_id);
  ASSERT_TRUE(
      scheduler_
          .Complete(w, item->lease_id, absl::CancelledError("killed"), false)
          .ok());
  EXPECT_EQ(running.op->stage(), Stage::kCompleted);
}

TEST_F(SchedulerTest, AJoinerTakesBackAnActionBeingCancelled) {
  // The last caller left while the action ran; before the cancel went out
  // another caller joins: the cancel is withdrawn and the run answers it.
  std::string w = scheduler_.AddWorker("e", {}, 2, "p");
  auto first = Submit("c");
  auto item = Next(w);
  ASSERT_TRUE(item.has_value());
  scheduler_.Release(first.op);
  auto joiner = Submit("c");
  EXPECT_TRUE(joiner.joined);
  EXPECT_FALSE(Next(w).has_value());  // no cancel is sent
  ASSERT_TRUE(scheduler_.Complete(w, item->lease_id, Exit(0), false).ok());
  ASSERT_TRUE(joiner.op->Wait(absl::Now()).ok());
  EXPECT_EQ(joiner.op->Wait(absl::Now())->result.exit_code(), 0);

  // Here the cancel reached the executor first: its CANCELLED result is
  // run again for the joiner (same attempt count), not reported.
  auto second = Submit("d");
  auto lease = Next(w);
  ASSERT_TRUE(lease.has_value());
  scheduler_.Release(second.op);
  auto cancel = Next(w);
  ASSERT_TRUE(cancel.has_value());
  EXPECT_EQ(cancel->kind, WorkItem::Kind::kCancel);
  auto late = Submit("d");
  EXPECT_TRUE(late.joined);
  ASSERT_TRUE(
      scheduler_
          .Complete(w, lease->lease_id, absl::CancelledError("killed"), false)
          .ok());
  EXPECT_EQ(late.op->stage(), Stage::kQueued);
  auto rerun = Next(w);
  ASSERT_TRUE(rerun.has_value());
  EXPECT_EQ(rerun->attempt, 1);
  ASSERT_TRUE(scheduler_.Complete(w, rerun->lease_id, Exit(0), false).ok());
  EXPECT_TRUE(late.op->Wait(absl::Now()).ok());
}

TEST_F(SchedulerTest, ALeaseItsExecutorStopsReportingIsRequeued) {
  // The executor is alive (heartbeats) but no longer names the lease (it
  // restarted, or lost the lease message): after worker_timeout the
  // action goes to another executor; the lease it does report stays.
  std::string forgetful = scheduler_.AddWorker("forgetful", {}, 2, "p");
  auto lost = Submit("lost");
  auto kept = Submit("kept");
  auto a = Next(forgetful);
  auto b = Next(forgetful);
  ASSERT_TRUE(a.has_value() && b.has_value());
  const WorkItem& lost_lease = a->action == Digest::Of("lost") ? *a : *b;
  const WorkItem& kept_lease = a->action == Digest::Of("lost") ? *b : *a;
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(absl::Seconds(5));
    scheduler_.Heartbeat(forgetful, {kept_lease.lease_id});
    scheduler_.Tick();
  }
  EXPECT_EQ(lost.op->stage(), Stage::kQueued);
  EXPECT_EQ(kept.op->stage(), Stage::kExecuting);
  // The forgetful executor is told to drop it, and the late result of the
  // old lease is ignored.
  auto cancel = Next(forgetful);
  ASSERT_TRUE(cancel.has_value());
  EXPECT_EQ(cancel->kind, WorkItem::Kind::kCancel);
  EXPECT_EQ(cancel->lease_id, lost_lease.lease_id);
  EXPECT_EQ(scheduler_.Complete(forgetful, lost_lease.lease_id, Exit(0), false)
                .code(),
            absl::StatusCode::kNotFound);
  std::string other = scheduler_.AddWorker("other", {}, 1, "p");
  auto again = Next(other);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->action, Digest::Of("lost"));
  EXPECT_EQ(again->attempt, 2);
}

TEST_F(SchedulerTest, ALeasePastItsDeadlineIsCancelledAndRequeued) {
  // An Action with a 10-minute timeout whose executor keeps reporting it
  // for longer than 10 min + lease_grace (5 min): it hangs there.
  std::string w = scheduler_.AddWorker("hanging", {}, 1, "p");
  SubmitOptions o;
  o.group = "g";
  o.timeout = absl::Minutes(10);
  auto s = scheduler_.Submit(Digest::Of("slow"), o);
  auto lease = Next(w);
  ASSERT_TRUE(lease.has_value());
  for (int i = 0; i < 14 * 12; ++i) {  // 14 minutes in 5 s heartbeats
    clock_.Advance(absl::Seconds(5));
    scheduler_.Heartbeat(w, {lease->lease_id});
    scheduler_.Tick();
  }
  EXPECT_EQ(s.op->stage(), Stage::kExecuting);
  for (int i = 0; i < 13; ++i) {  // past 15 minutes
    clock_.Advance(absl::Seconds(5));
    scheduler_.Heartbeat(w, {lease->lease_id});
    scheduler_.Tick();
  }
  EXPECT_EQ(s.op->stage(), Stage::kQueued);
  auto cancel = Next(w);
  ASSERT_TRUE(cancel.has_value());
  EXPECT_EQ(cancel->kind, WorkItem::Kind::kCancel);
  EXPECT_EQ(cancel->lease_id, lease->lease_id);
  // Attempts run out like any lost lease: the third deadline ends it,
  // naming why.
  for (int attempt = 2; attempt <= 3; ++attempt) {
    auto again = Next(w);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->attempt, attempt);
    for (int i = 0; i < 15 * 12 + 2; ++i) {
      clock_.Advance(absl::Seconds(5));
      scheduler_.Heartbeat(w, {again->lease_id});
      scheduler_.Tick();
    }
    Next(w);  // its cancel
  }
  auto out = s.op->Wait(absl::Now());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(out.status().message(),
              HasSubstr("lease ran past its deadline (10m + 5m)"));
  EXPECT_THAT(out.status().message(), HasSubstr("gave up after 3 attempts"));
}

TEST_F(SchedulerTest, NextWorkWakesWhenWorkArrives) {
  std::string w = scheduler_.AddWorker("e", {}, 1, "p");
  std::thread submitter([&] {
    absl::SleepFor(absl::Milliseconds(50));
    Submit("late");
  });
  auto r = scheduler_.NextWork(w, absl::Seconds(10));
  submitter.join();
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->action, Digest::Of("late"));
}

// NextWork on its own thread with an hour to wait: it returns only when the
// scheduler wakes it (work, a cancel, a freed slot, its removal). Ends by
// removing its worker, which wakes it whatever happened.
class Waiter {
 public:
  Waiter(Scheduler& scheduler, std::string worker)
      : scheduler_(scheduler), worker_(std::move(worker)), thread_([this] {
          auto r = scheduler_.NextWork(worker_, absl::Hours(1));
          absl::MutexLock lock(&mu_);
          result_ = std::move(r);
        }) {
    // Long enough for the thread to be waiting (were it not, NextWork
    // would find the work at once: the tests would be weaker, not flaky).
    absl::SleepFor(absl::Milliseconds(50));
  }
  ~Waiter() {
    scheduler_.RemoveWorker(worker_, "test over");
    thread_.join();
  }
  // What NextWork returned, if it did within `wait`.
  std::optional<absl::StatusOr<std::optional<WorkItem>>> Result(
      absl::Duration wait = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto returned = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return result_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&returned), wait);
    return result_;
  }

 private:
  Scheduler& scheduler_;
  const std::string worker_;
  absl::Mutex mu_;
  std::optional<absl::StatusOr<std::optional<WorkItem>>> result_
      ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// The lease a waiter got, or a failure naming what it got instead.
std::optional<WorkItem> LeaseOf(Waiter& waiter) {
  auto r = waiter.Result();
  if (!r.has_value()) {
    ADD_FAILURE() << "NextWork was not woken";
    return std::nullopt;
  }
  if (!r->ok() || !r->value().has_value()) {
    ADD_FAILURE() << "NextWork returned without work: "
                  << (r->ok() ? "nothing" : r->status().ToString());
    return std::nullopt;
  }
  return **r;
}

TEST_F(SchedulerTest, WorkWakesOneIdleWorkerAndLeasesSpread) {
  std::string a = scheduler_.AddWorker("a", {}, 2, "p");
  std::string b = scheduler_.AddWorker("b", {}, 2, "p");
  Waiter wa(scheduler_, a), wb(scheduler_, b);
  Submit("one");
  // One executor is woken for it; the other sleeps on.
  absl::SleepFor(absl::Milliseconds(100));
  const bool a_first = wa.Result(absl::ZeroDuration()).has_value();
  const bool b_first = wb.Result(absl::ZeroDuration()).has_value();
  EXPECT_NE(a_first, b_first) << "exactly one waiter returns";
  // The next one goes to the executor still waiting.
  Submit("two");
  auto la = LeaseOf(wa), lb = LeaseOf(wb);
  ASSERT_TRUE(la.has_value() && lb.has_value());
  EXPECT_EQ((a_first ? la : lb)->action, Digest::Of("one"));
  EXPECT_EQ((a_first ? lb : la)->action, Digest::Of("two"));
}

TEST_F(SchedulerTest, AFreedSlotWakesItsWorker) {
  std::string w = scheduler_.AddWorker("e", {}, 1, "p");
  Submit("first");
  auto first = Next(w);
  ASSERT_TRUE(first.has_value());
  Submit("second");  // queued: the only slot is busy
  Waiter waiter(scheduler_, w);
  EXPECT_FALSE(waiter.Result(absl::Milliseconds(100)).has_value());
  ASSERT_TRUE(scheduler_.Complete(w, first->lease_id, Exit(0), false).ok());
  auto second = LeaseOf(waiter);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->action, Digest::Of("second"));
}

TEST_F(SchedulerTest, ACancelWakesTheWorkerRunningIt) {
  auto running = Submit("r");
  std::string w = scheduler_.AddWorker("e", {}, 1, "p");
  auto item = Next(w);
  ASSERT_TRUE(item.has_value());
  Waiter waiter(scheduler_, w);
  scheduler_.Release(running.op);
  auto cancel = LeaseOf(waiter);
  ASSERT_TRUE(cancel.has_value());
  EXPECT_EQ(cancel->kind, WorkItem::Kind::kCancel);
  EXPECT_EQ(cancel->lease_id, item->lease_id);
}

TEST_F(SchedulerTest, ALostWorkersLeaseWakesAnotherAndItsWaitEnds) {
  std::string lost = scheduler_.AddWorker("lost", {}, 2, "p");
  Submit("a");
  auto item = Next(lost);
  ASSERT_TRUE(item.has_value());
  std::string other = scheduler_.AddWorker("other", {}, 1, "p");
  Waiter on_lost(scheduler_, lost), on_other(scheduler_, other);
  scheduler_.RemoveWorker(lost, "stream closed");
  auto moved = LeaseOf(on_other);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->action, Digest::Of("a"));
  auto gone = on_lost.Result();
  ASSERT_TRUE(gone.has_value()) << "the removed worker's wait did not end";
  EXPECT_EQ(gone->status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(SchedulerTest, NextWorkEndsAtItsDeadlineOnTheInjectedClock) {
  // The wait's own sleep is on the wall clock (an hour here); the deadline
  // that counts is the injected clock's, checked at each Tick().
  std::string w = scheduler_.AddWorker("e", {}, 1, "p");
  std::atomic<bool> returned{false};
  absl::StatusOr<std::optional<WorkItem>> r;
  std::thread waiter([&] {
    r = scheduler_.NextWork(w, absl::Hours(1));
    returned = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  scheduler_.Heartbeat(w, {});
  scheduler_.Tick();  // before the deadline: the wait goes on
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(returned);
  clock_.Advance(absl::Hours(1));
  scheduler_.Heartbeat(w, {});
  scheduler_.Tick();
  for (int i = 0; i < 500 && !returned; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_TRUE(returned) << "NextWork did not end at the injected deadline";
  if (!returned) Submit("wake");  // lets the thread end either way
  waiter.join();
  ASSERT_TRUE(r.ok()) << r.status();
}

}  // namespace
}  // namespace pbrx::coordinator
