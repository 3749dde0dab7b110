// What the coordinator shows of itself at one moment (its status page,
// `pbrx farm status`), and that moment as the FarmStatus message both
// serve: `pbrx farm status` over gRPC, the page's status.json through
// FarmStatusJson.
#ifndef PBRX_COORDINATOR_STATUS_SNAPSHOT_H_
#define PBRX_COORDINATOR_STATUS_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "coordinator/build_tracker.h"
#include "coordinator/scheduler.h"
#include "proto/farm.pb.h"

namespace pbrx::coordinator {

struct StatusSnapshot {
  std::string version;
  std::string cache;  // the cache endpoint
  SchedulerStats scheduler;
  int64_t builds_in_flight = 0;
  // Steps since start, by outcome.
  int64_t cache_hits = 0, joined = 0, executed = 0, failed = 0, retried = 0;
  std::vector<TrackedBuild> builds;
  std::vector<TrackedFailure> failures;  // newest first
  absl::Time now;   // on the clock of the times above (the farm's, monotonic)
  absl::Time wall;  // the wall clock, shown
};

// Durations relative to `s.now`; an empty action kind is "action".
pbrx::farm::v1::GetStatusResponse ToFarmStatus(const StatusSnapshot& s);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_STATUS_SNAPSHOT_H_
