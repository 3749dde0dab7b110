// The executor's Prometheus metrics (names start with pbrx_executor_), all
// gauges describing how this executor isolates steps, so that a fleet's
// dashboards show a host that runs without cgroups:
//   sandbox_limits{mechanism="cgroup_v1"|"cgroup_v2"|"rlimit"}  1 for the
//                               mechanism in use, 0 for the others
//   action_limit{limit="memory_bytes"|"pids"|"timeout_max_seconds"|
//                "tmp_bytes"}   the --action-* settings
//   slots                       actions run at once
#ifndef PBRX_EXECUTOR_EXECUTOR_METRICS_H_
#define PBRX_EXECUTOR_EXECUTOR_METRICS_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "prometheus/registry.h"

namespace pbrx::executor {

struct ExecutorDescription {
  std::string limits_mechanism;  // "cgroup_v1", "cgroup_v2" or "rlimit"
  int64_t memory_bytes = 0;
  int64_t max_pids = 0;
  absl::Duration max_timeout;
  int64_t tmp_bytes = 0;
  int64_t slots = 0;
};

// Adds the gauges above to `registry` (which must outlive its scrapes).
void RegisterExecutorMetrics(prometheus::Registry& registry,
                             const ExecutorDescription& description);

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_EXECUTOR_METRICS_H_
