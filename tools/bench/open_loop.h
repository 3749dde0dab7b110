// An open-loop load driver for latency benchmarks: calls are sent on a
// fixed schedule (rate per second over all clients) and a call's latency
// counts from its scheduled send time, so a slow server cannot hide its
// queueing by slowing the load down.
#ifndef PBRX_TOOLS_BENCH_OPEN_LOOP_H_
#define PBRX_TOOLS_BENCH_OPEN_LOOP_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/time/time.h"

namespace pbrx::bench {

struct OpenLoopResult {
  std::vector<double> latencies_us;
  int64_t errors = 0;
  double achieved_rate = 0;  // calls per second actually completed
};

// `call(client, i)` returns whether the call succeeded; it runs on
// `clients` threads, `rate` calls per second in all, for `duration`.
OpenLoopResult RunOpenLoop(int clients, int64_t rate, absl::Duration duration,
                           const std::function<bool(int, int64_t)>& call);

// The p-th quantile (0..1) of `v` (0 for an empty vector).
double Percentile(std::vector<double> v, double p);

}  // namespace pbrx::bench

#endif  // PBRX_TOOLS_BENCH_OPEN_LOOP_H_
