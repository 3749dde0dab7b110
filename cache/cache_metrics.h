// CacheMetrics: the Prometheus metrics of the cache server, registered in an
// injected prometheus::Registry (never a global one).
//   pbrx_cache_requests_total{method,code}
//   pbrx_cache_action_cache_lookups_total{result="hit"|"miss"}
//   pbrx_cache_read_bytes_total, pbrx_cache_written_bytes_total
// and, computed from the BlobStore at scrape time (StoreStatsCollector):
//   pbrx_cache_stored_blobs, pbrx_cache_stored_bytes (gauges)
//   pbrx_cache_evictions_total
// Thread-safe.
#ifndef PBRX_CACHE_CACHE_METRICS_H_
#define PBRX_CACHE_CACHE_METRICS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cache/blob_store.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace pbrx::cache {

class CacheMetrics {
 public:
  // Metric names start with `prefix` ("pbrx_cache"; the coordinator's
  // proxied cache services use "pbrx_coordinator_cache").
  explicit CacheMetrics(prometheus::Registry& registry,
                        const std::string& prefix = "pbrx_cache");

  void RecordRequest(absl::string_view method, absl::StatusCode code);
  void RecordActionCacheLookup(bool hit);
  void AddBytesRead(int64_t n) {
    bytes_read_.Increment(static_cast<double>(n));
  }
  void AddBytesWritten(int64_t n) {
    bytes_written_.Increment(static_cast<double>(n));
  }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& ac_lookups_;
  prometheus::Counter& ac_hits_;
  prometheus::Counter& ac_misses_;
  prometheus::Counter& bytes_read_;
  prometheus::Counter& bytes_written_;
};

// Reads the store's figures on every scrape, so they are never stale.
class StoreStatsCollector : public prometheus::Collectable {
 public:
  // `store` must outlive the collector's registration.
  explicit StoreStatsCollector(BlobStore* store) : store_(store) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  BlobStore* store_;
};

// The canonical gRPC name of a status code ("OK", "NOT_FOUND", ...).
absl::string_view StatusCodeName(absl::StatusCode code);

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_CACHE_METRICS_H_
