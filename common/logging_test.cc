#include "common/logging.h"

#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

TEST(Logging, TextLinesStartWithTheSeverityLetter) {
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogSeverity::kDebug,
                          "2026-12-02T14:00:00.000Z", "hello"),
            "D2026-12-02T14:00:00.000Z hello");
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogSeverity::kWarning, "T", "x"),
            "WT x");
}

TEST(Logging, JsonLinesAreOneEscapedObject) {
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, LogSeverity::kError, "T",
                          "bad \"name\"\n\\ \x01"),
            "{\"ts\":\"T\",\"level\":\"error\",\"msg\":\"bad \\\"name\\\"\\n"
            "\\\\ \\u0001\"}");
}

TEST(Logging, LevelsFilter) {
  SetLogLevel(LogSeverity::kWarning);
  EXPECT_FALSE(LogEnabled(LogSeverity::kInfo));
  EXPECT_TRUE(LogEnabled(LogSeverity::kError));
  SetLogLevel(LogSeverity::kDebug);
  EXPECT_TRUE(LogEnabled(LogSeverity::kDebug));
  SetInfoLogging(true);
  EXPECT_FALSE(LogEnabled(LogSeverity::kDebug));
  EXPECT_TRUE(LogEnabled(LogSeverity::kInfo));
}

TEST(Logging, ParsesLevelsAndFormatsOrNamesTheChoices) {
  EXPECT_EQ(*ParseLogLevel("DEBUG"), LogSeverity::kDebug);
  EXPECT_EQ(*ParseLogLevel("warn"), LogSeverity::kWarning);
  EXPECT_EQ(ParseLogLevel("loud").status().message(),
            "--log-level: 'loud' is not one of debug, info, warning, error");
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("xml").status().message(),
            "--log-format: 'xml' is not text or json");
}

}  // namespace
}  // namespace pbrx::common
