#include "common/logging.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace pbrx::common {
namespace {

std::atomic<int> min_level{static_cast<int>(LogSeverity::kInfo)};
std::atomic<int> log_format{static_cast<int>(LogFormat::kText)};

const char* LevelName(LogSeverity s) {
  switch (s) {
    case LogSeverity::kDebug:
      return "debug";
    case LogSeverity::kInfo:
      return "info";
    case LogSeverity::kWarning:
      return "warning";
    case LogSeverity::kError:
      return "error";
  }
  return "info";
}

// A JSON string's content: quotes, backslashes and control bytes escaped.
std::string JsonEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void SetLogLevel(LogSeverity min) { min_level = static_cast<int>(min); }
void SetLogFormat(LogFormat format) { log_format = static_cast<int>(format); }
bool LogEnabled(LogSeverity severity) {
  return static_cast<int>(severity) >= min_level;
}

absl::StatusOr<LogSeverity> ParseLogLevel(absl::string_view text) {
  std::string t = absl::AsciiStrToLower(text);
  if (t == "debug") return LogSeverity::kDebug;
  if (t == "info") return LogSeverity::kInfo;
  if (t == "warning" || t == "warn") return LogSeverity::kWarning;
  if (t == "error") return LogSeverity::kError;
  return absl::InvalidArgumentError(absl::StrCat(
      "--log-level: '", text, "' is not one of debug, info, warning, error"));
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("--log-format: '", text, "' is not text or json"));
}

std::string FormatLogLine(LogFormat format, LogSeverity severity,
                          absl::string_view time_text,
                          absl::string_view message) {
  if (format == LogFormat::kJson) {
    return absl::StrCat("{\"ts\":\"", time_text, "\",\"level\":\"",
                        LevelName(severity), "\",\"msg\":\"",
                        JsonEscape(message), "\"}");
  }
  char letter = absl::ascii_toupper(LevelName(severity)[0]);
  return absl::StrCat(std::string(1, letter), time_text, " ", message);
}

void LogLine(LogSeverity severity, absl::string_view message) {
  if (!LogEnabled(severity)) return;
  std::string line = FormatLogLine(
      static_cast<LogFormat>(log_format.load()), severity,
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                       absl::UTCTimeZone()),
      message);
  line += '\n';
  // One fwrite per line keeps lines whole across threads.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace pbrx::common
