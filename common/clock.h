// Clock: the source of "now" for time-driven policy (eviction ages, leases).
// Injected everywhere so tests drive time with FakeClock instead of sleeping.
// RealClock is the wall clock (for times that are stored or shown, such as
// the cache's last-use times); MonotonicClock never jumps (for timeouts and
// deadlines: a wall clock stepped by NTP or an operator must not expire
// every executor at once).
#ifndef PBRX_COMMON_CLOCK_H_
#define PBRX_COMMON_CLOCK_H_

#include <chrono>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace pbrx::common {

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe.
  virtual absl::Time Now() = 0;
};

// Wall-clock time.
class RealClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
};

// The wall clock read once, at construction, moved on by the monotonic clock
// (CLOCK_MONOTONIC): readings look like wall times but a step of the wall
// clock, forward or back, never shows. Thread-safe.
class MonotonicClock : public Clock {
 public:
  MonotonicClock()
      : wall_start_(absl::Now()),
        steady_start_(std::chrono::steady_clock::now()) {}
  absl::Time Now() override {
    return wall_start_ +
           absl::FromChrono(std::chrono::steady_clock::now() - steady_start_);
  }

 private:
  const absl::Time wall_start_;
  const std::chrono::steady_clock::time_point steady_start_;
};

// A clock that only moves when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000))
      : now_(start) {}
  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pbrx::common

#endif  // PBRX_COMMON_CLOCK_H_
