#include "executor/shared_executor.h"

#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace pbrx::executor {
namespace {

using common::Digest;

// Counts executions per digest; each blocks until released.
class GateExecutor : public common::ActionExecutor {
 public:
  absl::StatusOr<common::ActionOutcome> Run(const Digest& d,
                                    const common::ExecuteOptions&) override {
    {
      absl::MutexLock lock(&mu_);
      ++calls_[d.ToString()];
      ++running_;
      if (running_ > peak_) peak_ = running_;
    }
    release_.WaitForNotification();
    absl::MutexLock lock(&mu_);
    --running_;
    if (d == Digest::Of("fails")) return absl::InternalError("boom");
    common::ActionOutcome o;
    o.result.set_exit_code(static_cast<int>(d.size()));
    return o;
  }
  int calls(const Digest& d) {
    absl::MutexLock lock(&mu_);
    return calls_[d.ToString()];
  }
  int total_calls() {
    absl::MutexLock lock(&mu_);
    int n = 0;
    for (const auto& [k, v] : calls_) n += v;
    return n;
  }
  int peak() {
    absl::MutexLock lock(&mu_);
    return peak_;
  }
  absl::Notification release_;

 private:
  absl::Mutex mu_;
  std::map<std::string, int> calls_;
  int running_ = 0, peak_ = 0;
};

TEST(InflightDedupExecutorTest, ConcurrentCallsForOneDigestRunOnce) {
  GateExecutor gate;
  InflightDedupExecutor dedup(&gate);
  Digest a = Digest::Of("action a"), b = Digest::Of("bb");
  std::vector<absl::StatusOr<common::ActionOutcome>> results(6);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = dedup.Execute(i < 4 ? a : b, false); });
  }
  // Wait until all six are inside: two executions, four joined.
  while (gate.total_calls() < 2 || dedup.joined() < 4)
    absl::SleepFor(absl::Milliseconds(1));
  gate.release_.Notify();
  for (auto& t : threads) t.join();
  EXPECT_EQ(gate.calls(a), 1);
  EXPECT_EQ(gate.calls(b), 1);
  EXPECT_EQ(dedup.joined(), 4);
  int joined = 0;
  for (const auto& r : results) joined += r.ok() && r->joined;
  EXPECT_EQ(joined, 4);  // the two owners report a run of their own
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(results[i].ok());
    EXPECT_EQ(results[i]->result.exit_code(), (i < 4 ? a : b).size());
  }
}

TEST(InflightDedupExecutorTest, ErrorsAreSharedAndNotRemembered) {
  GateExecutor gate;
  gate.release_.Notify();
  InflightDedupExecutor dedup(&gate);
  Digest f = Digest::Of("fails");
  auto r = dedup.Execute(f, false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  // A later call runs again: only in-flight calls are joined.
  r = dedup.Execute(f, false);
  EXPECT_EQ(r.status().message(), "boom");
  EXPECT_EQ(gate.calls(f), 2);
  EXPECT_EQ(dedup.joined(), 0);
}

TEST(InflightDedupExecutorTest, SkipCacheLookupIsNotJoinedWithCachedCall) {
  GateExecutor gate;
  InflightDedupExecutor dedup(&gate);
  Digest a = Digest::Of("a");
  std::thread t1([&] { (void)dedup.Execute(a, false); });
  std::thread t2([&] { (void)dedup.Execute(a, true); });
  while (gate.calls(a) < 2) absl::SleepFor(absl::Milliseconds(1));
  gate.release_.Notify();
  t1.join();
  t2.join();
  EXPECT_EQ(gate.calls(a), 2);
}

TEST(BoundedExecutorTest, NeverMoreThanLimitAtOnce) {
  GateExecutor gate;
  BoundedExecutor bounded(&gate, 2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 7; ++i) {
    threads.emplace_back([&, i] {
      auto r = bounded.Execute(Digest::Of(std::to_string(i)), false);
      EXPECT_TRUE(r.ok());
    });
  }
  while (gate.total_calls() < 2) absl::SleepFor(absl::Milliseconds(1));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(gate.total_calls(), 2);  // the other five wait
  gate.release_.Notify();
  for (auto& t : threads) t.join();
  EXPECT_EQ(gate.total_calls(), 7);
  EXPECT_EQ(gate.peak(), 2);
  EXPECT_EQ(bounded.peak(), 2);
}

TEST(BoundedExecutorTest, LimitBelowOneMeansOne) {
  GateExecutor gate;
  gate.release_.Notify();
  BoundedExecutor bounded(&gate, 0);
  EXPECT_TRUE(bounded.Execute(Digest::Of("x"), false).ok());
  EXPECT_EQ(bounded.peak(), 1);
}

}  // namespace
}  // namespace pbrx::executor
