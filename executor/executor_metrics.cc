#include "executor/executor_metrics.h"

#include "prometheus/gauge.h"

namespace pbrx::executor {

void RegisterExecutorMetrics(prometheus::Registry& registry,
                             const ExecutorDescription& description) {
  auto& limits = prometheus::BuildGauge()
                     .Name("pbrx_executor_sandbox_limits")
                     .Help("1 for the mechanism enforcing step memory and "
                           "process limits (rlimit: no cgroups, "
                           "--allow-no-cgroups)")
                     .Register(registry);
  for (const char* m : {"cgroup_v1", "cgroup_v2", "rlimit"}) {
    limits.Add({{"mechanism", m}})
        .Set(description.limits_mechanism == m ? 1 : 0);
  }
  auto& action = prometheus::BuildGauge()
                     .Name("pbrx_executor_action_limit")
                     .Help("per-action limits (--action-*)")
                     .Register(registry);
  action.Add({{"limit", "memory_bytes"}})
      .Set(static_cast<double>(description.memory_bytes));
  action.Add({{"limit", "pids"}})
      .Set(static_cast<double>(description.max_pids));
  action.Add({{"limit", "timeout_max_seconds"}})
      .Set(absl::ToDoubleSeconds(description.max_timeout));
  action.Add({{"limit", "tmp_bytes"}})
      .Set(static_cast<double>(description.tmp_bytes));
  prometheus::BuildGauge()
      .Name("pbrx_executor_slots")
      .Help("actions run at once (--slots)")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(description.slots));
}

}  // namespace pbrx::executor
