#include "client/progress.h"

#include <sstream>

#include "gtest/gtest.h"

namespace pbrx::client {
namespace {

absl::Time At() { return absl::FromUnixMillis(1800000000123); }

TEST(ProgressTest, PlainLinesAreTimestampedWithDurations) {
  std::ostringstream err;
  ProgressPrinter p(ProgressMode::kPlain, &err, {"a", "b"}, At);
  p.StepStarted(0, "wheel-build", "x-1.0.tar.gz");
  coordinator::StepReport s;
  s.kind = "wheel-build";
  s.name = "x-1.0.tar.gz";
  s.seconds = 3.416;
  p.StepFinished(0, s);
  s.cached = true;
  s.seconds = 0.004;
  p.StepFinished(1, s);
  s.cached = false;
  s.failed = true;
  p.StepFinished(1, s);
  p.ProjectFinished(1, absl::InternalError("boom"), 0, 0);
  EXPECT_EQ(err.str(),
            "08:00:00.123 a: wheel-build x-1.0.tar.gz: started\n"
            "08:00:00.123 a: wheel-build x-1.0.tar.gz: done in 3.42s\n"
            "08:00:00.123 b: wheel-build x-1.0.tar.gz: cached in 0.00s\n"
            "08:00:00.123 b: wheel-build x-1.0.tar.gz: FAILED in 0.00s\n"
            "08:00:00.123 b: failed\n");
}

TEST(ProgressTest, JsonEventsAreOneObjectPerLine) {
  std::ostringstream err;
  ProgressPrinter p(ProgressMode::kJson, &err, {"a"}, At);
  p.StepStarted(0, "resolve", "base");
  coordinator::StepReport s;
  s.kind = "resolve";
  s.name = "base";
  s.seconds = 1.5;
  p.StepFinished(0, s);
  EXPECT_EQ(err.str(),
            "{\"event\":\"step_started\",\"dir\":\"a\",\"kind\":\"resolve\","
            "\"name\":\"base\"}\n"
            "{\"event\":\"step\",\"dir\":\"a\",\"kind\":\"resolve\",\"name\":"
            "\"base\",\"cached\":false,\"joined\":false,\"failed\":false,"
            "\"seconds\":1.5}\n");
}

TEST(ProgressTest, TtyPrintsNothingHereAndModesParse) {
  std::ostringstream err;
  ProgressPrinter p(ProgressMode::kTty, &err, {"a"}, At);
  p.StepStarted(0, "resolve", "base");
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(*ParseProgressMode("auto", true, true), ProgressMode::kJson);
  EXPECT_EQ(*ParseProgressMode("auto", false, true), ProgressMode::kTty);
  EXPECT_EQ(*ParseProgressMode("auto", false, false), ProgressMode::kPlain);
  EXPECT_EQ(*ParseProgressMode("plain", true, true), ProgressMode::kPlain);
  EXPECT_EQ(ParseProgressMode("fancy", false, false).status().message(),
            "--progress: 'fancy' is not one of auto, tty, plain, json");
}

}  // namespace
}  // namespace pbrx::client
