#include "common/process_metrics.h"

#include <unistd.h>

#include <map>

#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

TEST(ParseProcStat, CountsFieldsAfterTheLastParenthesis) {
  // A command name with spaces and ')' must not shift the fields.
  std::string text =
      "4242 (evil) name (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
      "250 50 0 0 20 0 7 0 12345 104857600 2560 18446744073709551615";
  absl::StatusOr<ProcStat> s = ParseProcStat(text, 100, 4096);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.0);  // (250 + 50) / 100
  EXPECT_DOUBLE_EQ(s->threads, 7);
  EXPECT_DOUBLE_EQ(s->start_seconds_after_boot, 123.45);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 104857600);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 2560.0 * 4096);
}

TEST(ParseProcStat, ShortOrNamelessTextIsAnError) {
  EXPECT_EQ(ParseProcStat("4242 evil S 1", 100, 4096).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<ProcStat> s = ParseProcStat("1 (x) S 1 2 3", 100, 4096);
  EXPECT_EQ(s.status().message(), "stat: 6 fields, want at least 24");
}

TEST(ProcessCollector, ReportsThisProcess) {
  ProcessCollector c("9.8.7");
  std::map<std::string, prometheus::MetricFamily> by_name;
  for (auto& f : c.Collect()) by_name[f.name] = f;
  ASSERT_EQ(by_name.count("pbrx_build_info"), 1u);
  ASSERT_EQ(by_name["pbrx_build_info"].metric.size(), 1u);
  EXPECT_EQ(by_name["pbrx_build_info"].metric[0].label[0].value, "9.8.7");
  ASSERT_EQ(by_name.count("process_resident_memory_bytes"), 1u);
  EXPECT_GT(by_name["process_resident_memory_bytes"].metric[0].gauge.value,
            1 << 20);
  EXPECT_GE(by_name["process_threads"].metric[0].gauge.value, 1);
  EXPECT_GE(by_name["process_open_fds"].metric[0].gauge.value, 3);
  EXPECT_GT(by_name["process_start_time_seconds"].metric[0].gauge.value,
            1.7e9);
}

}  // namespace
}  // namespace pbrx::common
