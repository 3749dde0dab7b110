#include "common/logging.h"

#include <atomic>
#include <cstdio>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace pbrx::common {
namespace {
std::atomic<bool> info_enabled{true};
}  // namespace

void SetInfoLogging(bool enabled) { info_enabled = enabled; }

void LogLine(LogSeverity severity, absl::string_view message) {
  if (severity == LogSeverity::kInfo && !info_enabled) return;
  char letter = severity == LogSeverity::kInfo      ? 'I'
                : severity == LogSeverity::kWarning ? 'W'
                                                    : 'E';
  std::string line =
      absl::StrCat(std::string(1, letter),
                   absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                    absl::UTCTimeZone()),
                   " ", message, "\n");
  // One fwrite per line keeps lines whole across threads.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace pbrx::common
