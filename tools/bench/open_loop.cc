#include "tools/bench/open_loop.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace pbrx::bench {

OpenLoopResult RunOpenLoop(int clients, int64_t rate, absl::Duration duration,
                           const std::function<bool(int, int64_t)>& call) {
  OpenLoopResult out;
  absl::Mutex mu;
  std::atomic<int64_t> errors{0};
  const int64_t per_client =
      static_cast<int64_t>(rate * absl::ToDoubleSeconds(duration)) / clients;
  const absl::Duration interval =
      absl::Seconds(1) * clients / static_cast<double>(rate);
  const absl::Time t0 = absl::Now() + absl::Milliseconds(50);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::vector<double> mine;
      mine.reserve(static_cast<size_t>(per_client));
      for (int64_t i = 0; i < per_client; ++i) {
        absl::Time scheduled = t0 + interval * i + interval * c / clients;
        absl::Time now = absl::Now();
        if (scheduled > now) absl::SleepFor(scheduled - now);
        if (!call(c, i)) ++errors;
        mine.push_back(absl::ToDoubleMicroseconds(absl::Now() - scheduled));
      }
      absl::MutexLock lock(&mu);
      out.latencies_us.insert(out.latencies_us.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  out.errors = errors.load();
  out.achieved_rate = static_cast<double>(out.latencies_us.size()) /
                      absl::ToDoubleSeconds(absl::Now() - t0);
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

}  // namespace pbrx::bench
