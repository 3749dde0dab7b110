#include "common/steady_notification.h"

#include <chrono>
#include <thread>

#include "absl/time/clock.h"
#include "common/clock.h"
#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

using Steady = std::chrono::steady_clock;

TEST(SteadyNotificationTest, ATimedWaitLastsItsTimeoutWhenNobodyNotifies) {
  SteadyNotification n;
  Steady::time_point start = Steady::now();
  EXPECT_FALSE(n.WaitForNotificationWithTimeout(absl::Milliseconds(80)));
  EXPECT_GE(Steady::now() - start, std::chrono::milliseconds(80));
  EXPECT_FALSE(n.HasBeenNotified());
}

TEST(SteadyNotificationTest, NotifyWakesAWaiterAndLaterWaitsReturnAtOnce) {
  SteadyNotification n;
  Steady::time_point start = Steady::now();
  std::thread notifier([&n] {
    absl::SleepFor(absl::Milliseconds(50));
    n.Notify();
  });
  EXPECT_TRUE(n.WaitForNotificationWithTimeout(absl::Seconds(30)));
  notifier.join();
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(n.HasBeenNotified());
  n.Notify();  // idempotent
  start = Steady::now();
  EXPECT_TRUE(n.WaitForNotificationWithTimeout(absl::Hours(1)));
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(1));
}

TEST(MonotonicClockTest, StartsAtTheWallClockAndMovesWithTheMonotonicOne) {
  absl::Time before = absl::Now();
  MonotonicClock clock;
  absl::Time first = clock.Now();
  EXPECT_GE(first, before);
  EXPECT_LT(first - before, absl::Seconds(1));
  Steady::time_point steady_start = Steady::now();
  absl::SleepFor(absl::Milliseconds(30));
  absl::Time second = clock.Now();
  absl::Duration steady_elapsed =
      absl::FromChrono(Steady::now() - steady_start);
  EXPECT_GE(second - first, absl::Milliseconds(30));
  EXPECT_LE(second - first, steady_elapsed + absl::Milliseconds(5));
}

}  // namespace
}  // namespace pbrx::common
