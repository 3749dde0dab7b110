// The coordinator's Prometheus metrics (names start with pbrx_coordinator_):
//   steps_total{kind,outcome}   one per Execute answered (the outcomes
//                               partition the steps): cache_hit, joined
//                               (shared a running execution), executed,
//                               failed, cancelled
//   attempts_total{kind,result} leases that ended: succeeded, failed
//   retries_total{kind}         attempts handed back to the queue
//   queue_wait_seconds{kind}    histogram, submit (or requeue) to lease
//   attempt_duration_seconds{kind} histogram, lease to result
//   deduplicated_bytes_total    output bytes answered without running
//                               (cache hits and joined executions)
//   queue_depth, running, builds_in_flight, executors_connected,
//   executors{state=idle|busy}  gauges, read from the scheduler at scrape
//                               (the states partition the executors)
// Step kind "" (plain REAPI actions, e.g. Bazel's) is labelled "action".
#ifndef PBRX_COORDINATOR_COORDINATOR_METRICS_H_
#define PBRX_COORDINATOR_COORDINATOR_METRICS_H_

#include <atomic>
#include <string>
#include <vector>

#include "cache/small_blob_cache.h"
#include "coordinator/scheduler.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace pbrx::coordinator {

class CoordinatorMetrics : public SchedulerObserver {
 public:
  explicit CoordinatorMetrics(prometheus::Registry& registry);

  void Queued(const std::string& kind) override;
  void Joined(const std::string& kind) override;
  void Leased(const std::string& kind, absl::Duration queue_wait) override;
  void Retried(const std::string& kind) override;
  void AttemptFinished(const std::string& kind, const std::string& result,
                       absl::Duration run_time) override;
  void Finished(const std::string& kind, const std::string& outcome) override;

  void CacheHit(const std::string& kind, int64_t output_bytes);
  void AddDeduplicatedBytes(int64_t n);
  void BuildStarted() { ++builds_in_flight_; }
  void BuildFinished() { --builds_in_flight_; }
  int64_t builds_in_flight() const { return builds_in_flight_; }

  // Steps by outcome, and retries, for `pbrx farm status`.
  double StepCount(const std::string& outcome) const;
  double RetryCount() const;

 private:
  prometheus::Counter& Step(const std::string& kind,
                            const std::string& outcome);

  prometheus::Family<prometheus::Counter>& steps_;
  prometheus::Family<prometheus::Counter>& attempts_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Histogram>& queue_wait_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Counter& dedup_bytes_;
  std::atomic<int64_t> builds_in_flight_{0};
  mutable absl::Mutex mu_;
  std::map<std::string, double> totals_ ABSL_GUARDED_BY(mu_);
  double retry_total_ ABSL_GUARDED_BY(mu_) = 0;
};

// Gauges computed from the scheduler on every scrape.
class SchedulerCollector : public prometheus::Collectable {
 public:
  SchedulerCollector(Scheduler* scheduler, const CoordinatorMetrics* metrics)
      : scheduler_(scheduler), metrics_(metrics) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Scheduler* scheduler_;
  const CoordinatorMetrics* metrics_;
};

// The coordinator's small-blob cache (cache/small_blob_cache.h), read on
// every scrape: blobs and bytes held, reads served from memory or fetched,
// writes skipped or sent, blobs written back after the cache lost them.
class SmallBlobCacheCollector : public prometheus::Collectable {
 public:
  explicit SmallBlobCacheCollector(cache::SmallBlobCache* cache)
      : cache_(cache) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  cache::SmallBlobCache* cache_;
};

// The size of everything an ActionResult names directly (files, trees,
// stdout, stderr).
int64_t ResultBytes(const build::bazel::remote::execution::v2::ActionResult& r);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_COORDINATOR_METRICS_H_
