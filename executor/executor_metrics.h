// The executor's Prometheus metrics (names start with pbrx_executor_).
// How this executor isolates steps, so that a fleet's dashboards show a
// host that runs without cgroups:
//   sandbox_limits{mechanism="cgroup_v1"|"cgroup_v2"|"rlimit"}  1 for the
//                               mechanism in use, 0 for the others
//   action_limit{limit="memory_bytes"|"pids"|"timeout_max_seconds"|
//                "tmp_bytes"}   the --action-* settings
//   slots                       actions run at once
// What it runs (MeteredExecutor):
//   slots_busy                  actions running now
//   actions_total{outcome}      succeeded (exit 0), exit_nonzero,
//                               limit_killed, cancelled, error (could not
//                               run: missing inputs, bad action, host
//                               fault); the outcomes partition the actions
//   limit_kills_total{limit}    timeout, memory, pids
//   phase_duration_seconds{phase}  histogram: stage (inputs and layers),
//                               run (the command), upload (outputs)
// Its layer cache (read at scrape):
//   layer_cache_requests_total{result="hit"|"miss"}
//   layer_cache_extracted_bytes_total, layer_cache_evictions_total
//   layer_cache_layers, layer_cache_bytes
#ifndef PBRX_EXECUTOR_EXECUTOR_METRICS_H_
#define PBRX_EXECUTOR_EXECUTOR_METRICS_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "common/action_executor.h"
#include "executor/layer_store.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
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

// Runs actions through `inner` and counts them (the metrics above).
class MeteredExecutor : public common::ActionExecutor {
 public:
  // `inner` and `registry` must outlive this.
  MeteredExecutor(common::ActionExecutor* inner,
                  prometheus::Registry& registry);

  absl::StatusOr<common::ActionOutcome> Run(
      const common::Digest& action_digest,
      const common::ExecuteOptions& options) override;

  // "succeeded", "exit_nonzero", "limit_killed", "cancelled" or "error".
  static std::string OutcomeOf(
      const absl::StatusOr<common::ActionOutcome>& outcome);

 private:
  common::ActionExecutor* inner_;
  prometheus::Gauge& busy_;
  prometheus::Family<prometheus::Counter>& actions_;
  prometheus::Family<prometheus::Counter>& kills_;
  prometheus::Family<prometheus::Histogram>& phases_;
};

// The layer cache's counters, read from `store` at every scrape.
class LayerCacheCollector : public prometheus::Collectable {
 public:
  explicit LayerCacheCollector(LayerStore* store) : store_(store) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  LayerStore* store_;
};

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_EXECUTOR_METRICS_H_
