#include "cache/cache_metrics.h"

#include <string>

#include "common/metric_family.h"

namespace pbrx::cache {

absl::string_view StatusCodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "OK";
    case absl::StatusCode::kCancelled:
      return "CANCELLED";
    case absl::StatusCode::kUnknown:
      return "UNKNOWN";
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kAborted:
      return "ABORTED";
    case absl::StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case absl::StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case absl::StatusCode::kInternal:
      return "INTERNAL";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDataLoss:
      return "DATA_LOSS";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

CacheMetrics::CacheMetrics(prometheus::Registry& registry,
                           const std::string& prefix)
    : requests_(prometheus::BuildCounter()
                    .Name(prefix + "_requests_total")
                    .Help("gRPC requests handled, by method and status code")
                    .Register(registry)),
      ac_lookups_(prometheus::BuildCounter()
                      .Name(prefix + "_action_cache_lookups_total")
                      .Help("GetActionResult lookups by result")
                      .Register(registry)),
      ac_hits_(ac_lookups_.Add({{"result", "hit"}})),
      ac_misses_(ac_lookups_.Add({{"result", "miss"}})),
      bytes_read_(prometheus::BuildCounter()
                      .Name(prefix + "_read_bytes_total")
                      .Help("Blob bytes sent to clients")
                      .Register(registry)
                      .Add({})),
      bytes_written_(prometheus::BuildCounter()
                         .Name(prefix + "_written_bytes_total")
                         .Help("Blob bytes received from clients and stored")
                         .Register(registry)
                         .Add({})) {}

void CacheMetrics::RecordRequest(absl::string_view method,
                                 absl::StatusCode code) {
  requests_
      .Add({{"method", std::string(method)},
            {"code", std::string(StatusCodeName(code))}})
      .Increment();
}

void CacheMetrics::RecordActionCacheLookup(bool hit) {
  (hit ? ac_hits_ : ac_misses_).Increment();
}

std::vector<prometheus::MetricFamily> StoreStatsCollector::Collect() const {
  using common::SampledFamily;
  using prometheus::MetricType;
  BlobStoreStats stats = store_->Stats();
  return {
      SampledFamily("pbrx_cache_stored_blobs", "Blobs in the CAS",
                    MetricType::Gauge,
                    {{{}, static_cast<double>(stats.blobs)}}),
      SampledFamily("pbrx_cache_stored_bytes",
                    "Bytes of blobs in the CAS (sum of blob sizes)",
                    MetricType::Gauge,
                    {{{}, static_cast<double>(stats.bytes)}}),
      SampledFamily(
          "pbrx_cache_evictions_total",
          "Blobs evicted to stay under --max-size since the server started",
          MetricType::Counter, {{{}, static_cast<double>(stats.evictions)}}),
  };
}

}  // namespace pbrx::cache
