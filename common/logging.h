// A minimal logging facade: one line per message on stderr, prefixed with a
// severity letter and a UTC timestamp. Libraries log through this (never
// std::cerr directly) so binaries can silence or redirect it in one place.
// It deliberately has no verbosity flags, files or rotation.
#ifndef PBRX_COMMON_LOGGING_H_
#define PBRX_COMMON_LOGGING_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace pbrx::common {

enum class LogSeverity { kInfo, kWarning, kError };

// Writes one line. Thread-safe.
void LogLine(LogSeverity severity, absl::string_view message);

// When false, kInfo lines are dropped (warnings and errors still print).
void SetInfoLogging(bool enabled);

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
