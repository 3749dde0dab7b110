// The farm's status as JSON (schema pbrx.farm-status/v1): `pbrx farm status
// --json` and the coordinator's status page (/status.json). snake_case keys,
// numbers as numbers:
//   {"schema", "version", "time", "cache", "queued", "running",
//    "builds_in_flight",
//    "steps": {"cache_hits", "joined", "executed", "failed", "retried",
//              "cache_hit_ratio"},
//    "executors": [{"name", "worker_id", "peer", "slots", "busy",
//                   "connected_seconds", "properties": {KEY: [VALUE...]},
//                   "running": [{"kind", "action", "build", "attempt",
//                                "seconds"}]}],
//    "queue": {GROUP: N}, "builds": [{"id", "client", "seconds",
//    "projects": [{"dir", "state", "current", "steps_cached",
//                  "steps_run"}]}],
//    "failures": [{"seconds_ago", "build", "dir", "message"}]}
#ifndef PBRX_COORDINATOR_FARM_STATUS_JSON_H_
#define PBRX_COORDINATOR_FARM_STATUS_JSON_H_

#include <cstdint>
#include <string>

#include "proto/farm.pb.h"

namespace pbrx::coordinator {

// The share of finished steps that did not run: (hits + joined) / (hits +
// joined + executed + failed); 0 before any step finished.
double CacheHitRatio(int64_t cache_hits, int64_t joined, int64_t executed,
                     int64_t failed);

std::string FarmStatusJson(const pbrx::farm::v1::GetStatusResponse& status,
                           bool pretty = true);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_FARM_STATUS_JSON_H_
