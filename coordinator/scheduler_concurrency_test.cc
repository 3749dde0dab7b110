// The scheduler under many submitting and leasing threads at once: exactly
// once, joins and fairness on the exact lease order.
#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "coordinator/scheduler.h"
#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

using common::Digest;

// Records the kind of every lease in the order the scheduler hands them out
// (called under the scheduler's lock, so the order is exact).
class LeaseOrderObserver : public SchedulerObserver {
 public:
  void Leased(const std::string& kind, absl::Duration) override {
    absl::MutexLock lock(&mu_);
    kinds_.push_back(kind);
  }
  std::vector<std::string> kinds() {
    absl::MutexLock lock(&mu_);
    return kinds_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> kinds_;
};

// Many submitters and executors at once: every action is leased exactly
// once, actions wanted by several groups are joined, every caller sees its
// result, and the small groups are served round-robin beside the big one
// although four executor threads take leases at once.
TEST(SchedulerConcurrencyTest, FairAndExactlyOnceUnderConcurrency) {
  common::FakeClock clock;
  LeaseOrderObserver order;
  Scheduler scheduler(&clock, SchedulerOptions{}, &order);
  // The step kind names the submitting group, so the observer sees whose
  // action each lease is.
  auto submit = [&](const std::string& name, const std::string& group) {
    SubmitOptions o;
    o.group = group;
    o.kind = group;
    return scheduler.Submit(Digest::Of(name), o);
  };
  constexpr int kBig = 400, kSmall = 30, kSmallGroups = 3, kShared = 5;
  // Phase 1: four threads submit at once (nothing is leased yet).
  std::vector<std::vector<Scheduler::Submitted>> subs(1 + kSmallGroups);
  {
    std::vector<std::thread> submitters;
    submitters.emplace_back([&] {
      for (int i = 0; i < kBig; ++i)
        subs[0].push_back(submit(absl::StrCat("big-", i), "big"));
    });
    for (int g = 1; g <= kSmallGroups; ++g) {
      submitters.emplace_back([&, g] {
        for (int i = 0; i < kSmall; ++i) {
          // The last kShared of each small group are big-group actions
          // (submitted before or after by the big group): joined either way.
          std::string name = i < kSmall - kShared
                                 ? absl::StrCat("small-", g, "-", i)
                                 : absl::StrCat("big-", i);
          subs[g].push_back(submit(name, absl::StrCat("small-", g)));
        }
      });
    }
    for (auto& t : submitters) t.join();
  }
  const int distinct = kBig + kSmallGroups * (kSmall - kShared);
  EXPECT_EQ(scheduler.Stats().queued, distinct);
  int joined = 0;
  for (const auto& group : subs)
    for (const auto& s : group) joined += s.joined ? 1 : 0;
  EXPECT_EQ(joined, kSmallGroups * kShared);

  // Phase 2: four executors (2 slots each) lease and complete at once,
  // while a late group submits.
  absl::Mutex mu;
  std::map<std::string, int> leased;  // action -> leases
  std::atomic<bool> done{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    std::string id = scheduler.AddWorker(absl::StrCat("e", w), {}, 2, "p");
    workers.emplace_back([&, id] {
      while (!done) {
        auto item = scheduler.NextWork(id, absl::Milliseconds(20));
        ASSERT_TRUE(item.ok()) << item.status();
        if (!item->has_value()) continue;
        {
          absl::MutexLock lock(&mu);
          ++leased[(*item)->action.ToString()];
        }
        common::ActionOutcome ok;
        ASSERT_TRUE(scheduler.Complete(id, (*item)->lease_id, ok, false).ok());
      }
    });
  }
  std::vector<Scheduler::Submitted> late;
  for (int i = 0; i < 20; ++i)
    late.push_back(submit(absl::StrCat("late-", i), "late"));
  auto all_completed = [&] {
    for (const auto& group : subs)
      for (const auto& s : group)
        if (s.op->stage() != Stage::kCompleted) return false;
    for (const auto& s : late)
      if (s.op->stage() != Stage::kCompleted) return false;
    return true;
  };
  for (int i = 0; i < 1000 && !all_completed(); ++i)
    absl::SleepFor(absl::Milliseconds(20));
  done = true;
  for (auto& t : workers) t.join();

  // Every caller saw a result; every action ran exactly once.
  ASSERT_TRUE(all_completed());
  for (const auto& group : subs) {
    for (const auto& s : group) {
      auto out = s.op->outcome();
      ASSERT_TRUE(out.ok()) << out.status();
      EXPECT_EQ(out->result.exit_code(), 0);
    }
  }
  EXPECT_EQ(static_cast<int>(leased.size()), distinct + 20);
  for (const auto& [action, n] : leased) EXPECT_EQ(n, 1) << action;
  EXPECT_EQ(scheduler.Stats().queued, 0);
  EXPECT_EQ(scheduler.Stats().running, 0);

  // Fairness, on the exact lease order: round-robin over five groups
  // serves the small groups' (at most kSmall) actions within the first
  // 5 x kSmall leases, not after the 400 big ones.
  std::vector<std::string> kinds = order.kinds();
  ASSERT_EQ(static_cast<int>(kinds.size()), distinct + 20);
  int last_small = -1;
  for (int i = 0; i < static_cast<int>(kinds.size()); ++i)
    if (kinds[i].rfind("small-", 0) == 0) last_small = i;
  EXPECT_LT(last_small, 5 * kSmall) << "small groups starved behind big";
  EXPECT_GE(last_small, kSmallGroups * (kSmall - kShared) - 1);
}

}  // namespace
}  // namespace pbrx::coordinator
