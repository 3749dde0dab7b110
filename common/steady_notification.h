// SteadyNotification: a one-shot "stop" event whose timed waits run on the
// monotonic clock. absl::Notification's timed waits (Abseil 20220623) sleep
// until a wall-clock deadline, so a wall clock stepped back by an hour stalls
// them an hour: a periodic loop (the coordinator's scheduler tick, an
// executor's heartbeats) built on them stops while the wall clock catches up.
// This one does not. Not a general condition variable: it only says whether
// Notify() was called.
#ifndef PBRX_COMMON_STEADY_NOTIFICATION_H_
#define PBRX_COMMON_STEADY_NOTIFICATION_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/time/time.h"

namespace pbrx::common {

class SteadyNotification {
 public:
  // Wakes every waiter; later waits return at once. Idempotent.
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
    cv_.notify_all();
  }
  bool HasBeenNotified() const {
    std::lock_guard<std::mutex> lock(mu_);
    return notified_;
  }
  // Waits until Notify() or until `timeout` has passed on the monotonic
  // clock; returns whether Notify() was called.
  bool WaitForNotificationWithTimeout(absl::Duration timeout) const {
    std::unique_lock<std::mutex> lock(mu_);
    // std::condition_variable::wait_for sleeps on steady_clock
    // (pthread_cond_clockwait with CLOCK_MONOTONIC in libstdc++ 12).
    return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                        [this] { return notified_; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace pbrx::common

#endif  // PBRX_COMMON_STEADY_NOTIFICATION_H_
