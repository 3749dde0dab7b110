#include "executor/executor_metrics.h"

#include <deque>

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace pbrx::executor {
namespace {

using google::protobuf::util::TimeUtil;

// Answers each Run with the next scripted outcome.
class ScriptedExecutor : public common::ActionExecutor {
 public:
  std::deque<absl::StatusOr<common::ActionOutcome>> script;
  absl::StatusOr<common::ActionOutcome> Run(
      const common::Digest&, const common::ExecuteOptions&) override {
    auto out = script.front();
    script.pop_front();
    return out;
  }
};

common::ActionOutcome Exit(int code) {
  common::ActionOutcome o;
  o.result.set_exit_code(code);
  auto* md = o.result.mutable_execution_metadata();
  *md->mutable_input_fetch_start_timestamp() =
      TimeUtil::SecondsToTimestamp(100);
  *md->mutable_input_fetch_completed_timestamp() =
      TimeUtil::MillisecondsToTimestamp(100'250);
  *md->mutable_execution_start_timestamp() =
      TimeUtil::MillisecondsToTimestamp(100'250);
  *md->mutable_execution_completed_timestamp() =
      TimeUtil::SecondsToTimestamp(103);
  *md->mutable_worker_completed_timestamp() =
      TimeUtil::MillisecondsToTimestamp(103'020);
  return o;
}

std::string Scrape(prometheus::Registry& r) {
  return prometheus::TextSerializer().Serialize(r.Collect());
}

TEST(MeteredExecutor, OutcomesPartitionTheActions) {
  prometheus::Registry registry;
  ScriptedExecutor inner;
  inner.script.push_back(Exit(0));
  inner.script.push_back(Exit(3));
  common::ActionOutcome killed = Exit(137);
  killed.status = absl::ResourceExhaustedError("killed: memory limit");
  killed.limit_exceeded = "memory";
  inner.script.push_back(killed);
  inner.script.push_back(absl::CancelledError("cancelled"));
  inner.script.push_back(absl::FailedPreconditionError("missing input"));
  MeteredExecutor metered(&inner, registry);
  for (int i = 0; i < 5; ++i)
    (void)metered.Run(common::Digest::Of("a"), common::ExecuteOptions());
  std::string text = Scrape(registry);
  for (const char* line : {
           "pbrx_executor_actions_total{outcome=\"succeeded\"} 1",
           "pbrx_executor_actions_total{outcome=\"exit_nonzero\"} 1",
           "pbrx_executor_actions_total{outcome=\"limit_killed\"} 1",
           "pbrx_executor_actions_total{outcome=\"cancelled\"} 1",
           "pbrx_executor_actions_total{outcome=\"error\"} 1",
           "pbrx_executor_limit_kills_total{limit=\"memory\"} 1",
           "pbrx_executor_limit_kills_total{limit=\"timeout\"} 0",
           "pbrx_executor_slots_busy 0",
           // Three runs with metadata: 0.25 s staging, 2.75 s running,
           // 0.02 s uploading each.
           "pbrx_executor_phase_duration_seconds_count{phase=\"run\"} 3",
           "pbrx_executor_phase_duration_seconds_sum{phase=\"run\"} 8.25",
           "pbrx_executor_phase_duration_seconds_sum{phase=\"stage\"} 0.75",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
}

TEST(MeteredExecutor, CachedAnswersHaveNoPhases) {
  prometheus::Registry registry;
  ScriptedExecutor inner;
  common::ActionOutcome hit = Exit(0);
  hit.cached = true;
  inner.script.push_back(hit);
  MeteredExecutor metered(&inner, registry);
  ASSERT_TRUE(
      metered.Run(common::Digest::Of("a"), common::ExecuteOptions()).ok());
  std::string text = Scrape(registry);
  EXPECT_NE(text.find("pbrx_executor_actions_total{outcome=\"succeeded\"} 1"),
            std::string::npos);
  EXPECT_EQ(text.find("pbrx_executor_phase_duration_seconds_count"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace pbrx::executor
