// Small helpers for running independent pieces of work on threads.
#ifndef PBRX_COMMON_PARALLEL_H_
#define PBRX_COMMON_PARALLEL_H_

#include <cstddef>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace pbrx::common {

// Runs fn(0) .. fn(n-1), each on its own thread (n is expected to be small:
// the work itself is bounded elsewhere), waits for all and returns the
// first error by index, or OK.
inline absl::Status ParallelFor(size_t n,
                                const std::function<absl::Status(size_t)>& fn) {
  if (n == 1) return fn(0);
  std::vector<absl::Status> results(n);
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&results, &fn, i] { results[i] = fn(i); });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// A thread joined when the object goes out of scope (so an early return
// never leaves a joinable std::thread behind).
class ScopedThread {
 public:
  ScopedThread() = default;
  explicit ScopedThread(std::function<void()> fn) : thread_(std::move(fn)) {}
  ScopedThread(ScopedThread&&) = default;
  ScopedThread& operator=(ScopedThread&& other) {
    Join();
    thread_ = std::move(other.thread_);
    return *this;
  }
  ~ScopedThread() { Join(); }

  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

}  // namespace pbrx::common

#endif  // PBRX_COMMON_PARALLEL_H_
