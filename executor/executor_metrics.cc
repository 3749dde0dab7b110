#include "executor/executor_metrics.h"

#include "common/metric_family.h"
#include "google/protobuf/util/time_util.h"
#include "prometheus/client_metric.h"
#include "prometheus/gauge.h"

namespace pbrx::executor {

void RegisterExecutorMetrics(prometheus::Registry& registry,
                             const ExecutorDescription& description) {
  auto& limits = prometheus::BuildGauge()
                     .Name("pbrx_executor_sandbox_limits")
                     .Help(
                         "1 for the mechanism enforcing step memory and "
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

namespace {

double Seconds(const google::protobuf::Timestamp& from,
               const google::protobuf::Timestamp& to) {
  using google::protobuf::util::TimeUtil;
  double s =
      static_cast<double>(TimeUtil::DurationToNanoseconds(to - from)) / 1e9;
  return s > 0 ? s : 0;
}

}  // namespace

MeteredExecutor::MeteredExecutor(common::ActionExecutor* inner,
                                 prometheus::Registry& registry)
    : inner_(inner),
      busy_(prometheus::BuildGauge()
                .Name("pbrx_executor_slots_busy")
                .Help("actions running now")
                .Register(registry)
                .Add({})),
      actions_(prometheus::BuildCounter()
                   .Name("pbrx_executor_actions_total")
                   .Help("actions by outcome: succeeded, exit_nonzero, "
                         "limit_killed, cancelled, error")
                   .Register(registry)),
      kills_(prometheus::BuildCounter()
                 .Name("pbrx_executor_limit_kills_total")
                 .Help("commands killed by a limit: timeout, memory, pids")
                 .Register(registry)),
      phases_(prometheus::BuildHistogram()
                  .Name("pbrx_executor_phase_duration_seconds")
                  .Help("time per phase of an action: stage (inputs and "
                        "layers), run (the command), upload (outputs)")
                  .Register(registry)) {
  // Every series exists from the start, so rate() sees the first action.
  for (const char* o :
       {"succeeded", "exit_nonzero", "limit_killed", "cancelled", "error"})
    actions_.Add({{"outcome", o}});
  for (const char* l : {"timeout", "memory", "pids"})
    kills_.Add({{"limit", l}});
}

std::string MeteredExecutor::OutcomeOf(
    const absl::StatusOr<common::ActionOutcome>& outcome) {
  if (!outcome.ok()) {
    return outcome.status().code() == absl::StatusCode::kCancelled ? "cancelled"
                                                                   : "error";
  }
  if (!outcome->limit_exceeded.empty()) return "limit_killed";
  if (outcome->status.code() == absl::StatusCode::kCancelled)
    return "cancelled";
  if (!outcome->status.ok()) return "error";
  return outcome->result.exit_code() == 0 ? "succeeded" : "exit_nonzero";
}

absl::StatusOr<common::ActionOutcome> MeteredExecutor::Run(
    const common::Digest& action_digest,
    const common::ExecuteOptions& options) {
  busy_.Increment();
  absl::StatusOr<common::ActionOutcome> out =
      inner_->Run(action_digest, options);
  busy_.Decrement();
  actions_.Add({{"outcome", OutcomeOf(out)}}).Increment();
  if (!out.ok()) return out;
  if (!out->limit_exceeded.empty())
    kills_.Add({{"limit", out->limit_exceeded}}).Increment();
  if (!out->cached && out->result.has_execution_metadata()) {
    const auto& md = out->result.execution_metadata();
    static const prometheus::Histogram::BucketBoundaries kBuckets = {
        0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800};
    phases_.Add({{"phase", "stage"}}, kBuckets)
        .Observe(Seconds(md.input_fetch_start_timestamp(),
                         md.input_fetch_completed_timestamp()));
    phases_.Add({{"phase", "run"}}, kBuckets)
        .Observe(Seconds(md.execution_start_timestamp(),
                         md.execution_completed_timestamp()));
    phases_.Add({{"phase", "upload"}}, kBuckets)
        .Observe(Seconds(md.execution_completed_timestamp(),
                         md.worker_completed_timestamp()));
  }
  return out;
}

std::vector<prometheus::MetricFamily> LayerCacheCollector::Collect() const {
  using prometheus::MetricType;
  LayerStoreStats s = store_->Stats();
  using common::SampledFamily;
  auto n = [](int64_t v) { return static_cast<double>(v); };
  return {
      SampledFamily("pbrx_executor_layer_cache_requests_total",
                    "layer lookups: hit (already extracted) or miss",
                    MetricType::Counter,
                    {{{{"result", "hit"}}, n(s.hits)},
                     {{{"result", "miss"}}, n(s.misses)}}),
      SampledFamily("pbrx_executor_layer_cache_extracted_bytes_total",
                    "bytes on disk of the layers extracted",
                    MetricType::Counter, {{{}, n(s.extracted_bytes)}}),
      SampledFamily("pbrx_executor_layer_cache_evictions_total",
                    "layers evicted", MetricType::Counter,
                    {{{}, n(s.evictions)}}),
      SampledFamily("pbrx_executor_layer_cache_layers",
                    "layers extracted on disk", MetricType::Gauge,
                    {{{}, n(s.layers)}}),
      SampledFamily("pbrx_executor_layer_cache_bytes",
                    "bytes on disk of the extracted layers", MetricType::Gauge,
                    {{{}, n(s.bytes)}}),
  };
}

}  // namespace pbrx::executor
