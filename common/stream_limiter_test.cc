#include "common/stream_limiter.h"

#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

TEST(StreamLimiterTest, PeerHostDropsThePort) {
  EXPECT_EQ(PeerHost("ipv4:10.0.0.1:5555"), "10.0.0.1");
  EXPECT_EQ(PeerHost("ipv6:[::1]:5555"), "[::1]");
  EXPECT_EQ(PeerHost("unix:/run/x.sock"), "unix:/run/x.sock");
}

TEST(StreamLimiterTest, PerPeerAndTotalBoundsWithReleases) {
  StreamLimiter limiter(/*max_total=*/3, /*max_per_peer=*/2);
  std::vector<StreamLimiter::Slot> held;
  for (const char* peer : {"ipv4:10.0.0.1:1", "ipv4:10.0.0.1:2"}) {
    absl::StatusOr<StreamLimiter::Slot> s = limiter.Acquire(peer, "Execute");
    ASSERT_TRUE(s.ok()) << s.status();
    held.push_back(*std::move(s));
  }
  // Another connection of the same host: refused, naming the host.
  absl::StatusOr<StreamLimiter::Slot> third =
      limiter.Acquire("ipv4:10.0.0.1:3", "Execute");
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(third.status().message(),
            "Execute: 2 streams already open from 10.0.0.1 "
            "(--max-streams-per-peer 2)");
  // Another host fits, then the server is full for everyone.
  absl::StatusOr<StreamLimiter::Slot> other =
      limiter.Acquire("ipv4:10.0.0.2:1", "Read");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(limiter.open(), 3);
  EXPECT_EQ(limiter.Acquire("ipv4:10.0.0.3:1", "Write").status().message(),
            "Write: 3 streams already open on this server (--max-threads "
            "leaves room for 3)");
  // Released slots make room again, moved ones are counted once.
  StreamLimiter::Slot moved = std::move(held[0]);
  held.clear();
  EXPECT_EQ(limiter.open(), 2);
  { StreamLimiter::Slot gone = std::move(moved); }
  EXPECT_EQ(limiter.open(), 1);
  EXPECT_TRUE(limiter.Acquire("ipv4:10.0.0.1:4", "Execute").ok());
  EXPECT_EQ(limiter.open(), 1);  // the temporary slot released at once
}

}  // namespace
}  // namespace pbrx::common
