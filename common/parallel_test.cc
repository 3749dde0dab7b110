#include "common/parallel.h"

#include <atomic>

#include "absl/synchronization/barrier.h"
#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

TEST(ParallelForTest, RunsAllConcurrentlyAndReturnsFirstErrorByIndex) {
  // The barrier only opens when all four run at the same time.
  absl::Barrier* barrier = new absl::Barrier(4);
  std::atomic<int> ran{0};
  absl::Status s = ParallelFor(4, [&](size_t i) -> absl::Status {
    if (barrier->Block()) delete barrier;
    ++ran;
    if (i == 3) return absl::NotFoundError("three");
    if (i == 1) return absl::InternalError("one");
    return absl::OkStatus();
  });
  EXPECT_EQ(ran.load(), 4);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message(), "one");
}

TEST(ParallelForTest, ZeroAndOneItems) {
  EXPECT_TRUE(
      ParallelFor(0, [](size_t) { return absl::InternalError("x"); }).ok());
  EXPECT_EQ(
      ParallelFor(1, [](size_t) { return absl::AbortedError("y"); }).message(),
      "y");
}

TEST(ScopedThreadTest, JoinsOnScopeExit) {
  std::atomic<bool> done{false};
  {
    ScopedThread t([&] {
      absl::SleepFor(absl::Milliseconds(20));
      done = true;
    });
  }
  EXPECT_TRUE(done.load());
}

}  // namespace
}  // namespace pbrx::common
