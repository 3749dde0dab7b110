#include "coordinator/coordinator_metrics.h"

#include "common/metric_family.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"

namespace pbrx::coordinator {
namespace {

std::string KindLabel(const std::string& kind) {
  return kind.empty() ? "action" : kind;
}

prometheus::Histogram::BucketBoundaries SecondsBuckets() {
  return {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800};
}

prometheus::MetricFamily Gauge(const std::string& name, const std::string& help,
                               double value) {
  return common::SampledFamily(name, help, prometheus::MetricType::Gauge,
                               {{{}, value}});
}

}  // namespace

CoordinatorMetrics::CoordinatorMetrics(prometheus::Registry& registry)
    : steps_(prometheus::BuildCounter()
                 .Name("pbrx_coordinator_steps_total")
                 .Help("Steps (REAPI Execute calls answered) by kind and "
                       "outcome: cache_hit, joined, executed, failed, "
                       "cancelled; each step counts once")
                 .Register(registry)),
      attempts_(prometheus::BuildCounter()
                    .Name("pbrx_coordinator_attempts_total")
                    .Help("Leases to executors that ended, by kind and "
                          "result: succeeded, failed")
                    .Register(registry)),
      retries_(prometheus::BuildCounter()
                   .Name("pbrx_coordinator_retries_total")
                   .Help("Attempts handed back to the queue, by kind")
                   .Register(registry)),
      queue_wait_(prometheus::BuildHistogram()
                      .Name("pbrx_coordinator_queue_wait_seconds")
                      .Help("Time from queueing to a lease, by step kind")
                      .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("pbrx_coordinator_attempt_duration_seconds")
                    .Help("Time from lease to result, by step kind")
                    .Register(registry)),
      dedup_bytes_(prometheus::BuildCounter()
                       .Name("pbrx_coordinator_deduplicated_bytes_total")
                       .Help("Output bytes answered without running anything "
                             "(cache hits, joined executions)")
                       .Register(registry)
                       .Add({})) {
  // Series of the known step kinds exist from the start (at 0), so rate()
  // and dashboards see the first retry and rules find the metric.
  for (const char* kind : {"action", "base", "base-probe", "distro-layer",
                           "project-wheel", "resolve", "fetch", "wheel-build",
                           "packages-probe", "python-layer", "bytecode"}) {
    retries_.Add({{"kind", kind}});
  }
}

prometheus::Counter& CoordinatorMetrics::Step(const std::string& kind,
                                              const std::string& outcome) {
  {
    absl::MutexLock lock(&mu_);
    totals_[outcome] += 1;
  }
  return steps_.Add({{"kind", KindLabel(kind)}, {"outcome", outcome}});
}

void CoordinatorMetrics::Queued(const std::string& kind) {}
void CoordinatorMetrics::Joined(const std::string& kind) {
  Step(kind, "joined").Increment();
}
void CoordinatorMetrics::Leased(const std::string& kind, absl::Duration wait) {
  queue_wait_.Add({{"kind", KindLabel(kind)}}, SecondsBuckets())
      .Observe(absl::ToDoubleSeconds(wait));
}
void CoordinatorMetrics::Retried(const std::string& kind) {
  {
    absl::MutexLock lock(&mu_);
    retry_total_ += 1;
  }
  retries_.Add({{"kind", KindLabel(kind)}}).Increment();
}
void CoordinatorMetrics::AttemptFinished(const std::string& kind,
                                         const std::string& result,
                                         absl::Duration run_time) {
  attempts_.Add({{"kind", KindLabel(kind)}, {"result", result}}).Increment();
  duration_.Add({{"kind", KindLabel(kind)}}, SecondsBuckets())
      .Observe(absl::ToDoubleSeconds(run_time));
}
void CoordinatorMetrics::Finished(const std::string& kind,
                                  const std::string& outcome) {
  Step(kind, outcome).Increment();
}
void CoordinatorMetrics::CacheHit(const std::string& kind,
                                  int64_t output_bytes) {
  Step(kind, "cache_hit").Increment();
  AddDeduplicatedBytes(output_bytes);
}
void CoordinatorMetrics::AddDeduplicatedBytes(int64_t n) {
  dedup_bytes_.Increment(static_cast<double>(n));
}

double CoordinatorMetrics::RetryCount() const {
  absl::MutexLock lock(&mu_);
  return retry_total_;
}

double CoordinatorMetrics::StepCount(const std::string& outcome) const {
  absl::MutexLock lock(&mu_);
  auto it = totals_.find(outcome);
  return it == totals_.end() ? 0 : it->second;
}

std::vector<prometheus::MetricFamily> SchedulerCollector::Collect() const {
  SchedulerStats s = scheduler_->Stats();
  int busy = 0;
  for (const WorkerInfo& w : s.workers) busy += w.busy > 0 ? 1 : 0;
  return {
      Gauge("pbrx_coordinator_queue_depth", "Actions waiting for an executor",
            static_cast<double>(s.queued)),
      Gauge("pbrx_coordinator_running", "Actions leased to executors",
            static_cast<double>(s.running)),
      Gauge("pbrx_coordinator_builds_in_flight",
            "pbrx builds the coordinator is running",
            static_cast<double>(metrics_->builds_in_flight())),
      common::SampledFamily(
          "pbrx_coordinator_executors",
          "Executors connected, by state: idle, or busy (running at least "
          "one action)",
          prometheus::MetricType::Gauge,
          {{{{"state", "idle"}}, static_cast<double>(s.workers.size() - busy)},
           {{{"state", "busy"}}, static_cast<double>(busy)}}),
      Gauge("pbrx_coordinator_executors_connected",
            "Executors connected (idle + busy)",
            static_cast<double>(s.workers.size())),
  };
}

std::vector<prometheus::MetricFamily> SmallBlobCacheCollector::Collect() const {
  const cache::SmallBlobCacheStats s = cache_->CacheStats();
  auto d = [](int64_t v) { return static_cast<double>(v); };
  return {
      Gauge("pbrx_coordinator_small_blobs", "Small blobs held in memory",
            d(s.blobs)),
      Gauge("pbrx_coordinator_small_blob_bytes",
            "Bytes of the small blobs held in memory", d(s.bytes)),
      common::SampledFamily(
          "pbrx_coordinator_small_blob_reads_total",
          "Reads of small blobs: hit (served from memory) or miss (fetched "
          "from the cache)",
          prometheus::MetricType::Counter,
          {{{{"result", "hit"}}, d(s.read_hits)},
           {{{"result", "miss"}}, d(s.read_misses)}}),
      common::SampledFamily(
          "pbrx_coordinator_small_blob_writes_total",
          "Writes of small blobs: skipped (presence confirmed recently), "
          "sent (to the cache) or restored (written back after the cache "
          "lost them)",
          prometheus::MetricType::Counter,
          {{{{"result", "skipped"}}, d(s.writes_skipped)},
           {{{"result", "sent"}}, d(s.writes_sent)},
           {{{"result", "restored"}}, d(s.restored)}}),
  };
}

int64_t ResultBytes(
    const build::bazel::remote::execution::v2::ActionResult& r) {
  int64_t n = r.stdout_digest().size_bytes() + r.stderr_digest().size_bytes();
  for (const auto& f : r.output_files()) n += f.digest().size_bytes();
  for (const auto& d : r.output_directories())
    n += d.tree_digest().size_bytes();
  return n;
}

}  // namespace pbrx::coordinator
