#include "common/metric_family.h"

namespace pbrx::common {

prometheus::MetricFamily SampledFamily(
    const std::string& name, const std::string& help,
    prometheus::MetricType type, const std::vector<MetricSample>& samples) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  for (const MetricSample& s : samples) {
    prometheus::ClientMetric metric;
    metric.label = s.labels;
    if (type == prometheus::MetricType::Counter) {
      metric.counter.value = s.value;
    } else {
      metric.gauge.value = s.value;
    }
    family.metric.push_back(std::move(metric));
  }
  return family;
}

}  // namespace pbrx::common
