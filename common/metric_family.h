// Metric families built at scrape time: a collector that reads its numbers
// when Prometheus asks (store sizes, queue depths, /proc/self) returns them
// as families of samples, one per label set.
#ifndef PBRX_COMMON_METRIC_FAMILY_H_
#define PBRX_COMMON_METRIC_FAMILY_H_

#include <string>
#include <vector>

#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"

namespace pbrx::common {

struct MetricSample {
  std::vector<prometheus::ClientMetric::Label> labels;
  double value = 0;
};

// A counter or gauge family NAME with HELP holding SAMPLES (other types
// are not built at scrape time here).
prometheus::MetricFamily SampledFamily(
    const std::string& name, const std::string& help,
    prometheus::MetricType type, const std::vector<MetricSample>& samples);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_METRIC_FAMILY_H_
