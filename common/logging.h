// A minimal logging facade: one line per message on stderr. Libraries log
// through this (never std::cerr directly) so binaries can filter and format
// it in one place. Two formats:
//   text  "I2026-12-02T14:00:00.000Z message" (severity letter D/I/W/E)
//   json  {"ts":"2026-12-02T14:00:00.000Z","level":"info","msg":"message"}
// No files or rotation: daemons log to stderr for journald or a collector.
#ifndef PBRX_COMMON_LOGGING_H_
#define PBRX_COMMON_LOGGING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace pbrx::common {

enum class LogSeverity { kDebug, kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

// Writes one line. Thread-safe.
void LogLine(LogSeverity severity, absl::string_view message);

// Lines below `min` are dropped (default: kInfo).
void SetLogLevel(LogSeverity min);
void SetLogFormat(LogFormat format);
// Whether a line of `severity` would be written (skip costly messages).
bool LogEnabled(LogSeverity severity);
// When false, only warnings and errors print (--quiet).
inline void SetInfoLogging(bool enabled) {
  SetLogLevel(enabled ? LogSeverity::kInfo : LogSeverity::kWarning);
}

// "debug", "info", "warning" (or "warn"), "error"; INVALID_ARGUMENT naming
// the accepted values otherwise.
absl::StatusOr<LogSeverity> ParseLogLevel(absl::string_view text);
// "text" or "json".
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text);

// The line LogLine writes for `message` at `time_text`, without the newline.
std::string FormatLogLine(LogFormat format, LogSeverity severity,
                          absl::string_view time_text,
                          absl::string_view message);

template <typename... Args>
void LogDebug(const Args&... args) {
  if (LogEnabled(LogSeverity::kDebug))
    LogLine(LogSeverity::kDebug, absl::StrCat(args...));
}
template <typename... Args>
void LogInfo(const Args&... args) {
  LogLine(LogSeverity::kInfo, absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  LogLine(LogSeverity::kWarning, absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  LogLine(LogSeverity::kError, absl::StrCat(args...));
}

}  // namespace pbrx::common

#endif  // PBRX_COMMON_LOGGING_H_
