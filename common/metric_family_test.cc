#include "common/metric_family.h"

#include <sstream>

#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace pbrx::common {
namespace {

std::string Text(const prometheus::MetricFamily& f) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, {f});
  return out.str();
}

TEST(SampledFamilyTest, CountersAndGaugesAsPrometheusReadsThem) {
  EXPECT_EQ(Text(SampledFamily(
                "x_total", "things", prometheus::MetricType::Counter,
                {{{{"result", "hit"}}, 3}, {{{"result", "miss"}}, 1}})),
            "# HELP x_total things\n# TYPE x_total counter\n"
            "x_total{result=\"hit\"} 3\nx_total{result=\"miss\"} 1\n");
  EXPECT_EQ(Text(SampledFamily("y_bytes", "size", prometheus::MetricType::Gauge,
                               {{{}, 2.5}})),
            "# HELP y_bytes size\n# TYPE y_bytes gauge\ny_bytes 2.5\n");
}

TEST(SampledFamilyTest, NoSamplesNoLines) {
  EXPECT_EQ(Text(SampledFamily("z", "none", prometheus::MetricType::Gauge, {})),
            "# HELP z none\n# TYPE z gauge\n");
}

}  // namespace
}  // namespace pbrx::common
