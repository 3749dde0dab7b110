// WheelMetadata: what pbrx needs from a wheel's .dist-info (PEP 427,
// core metadata, entry_points.txt): name, version, Requires-Dist,
// Provides-Extra, the source URL and the console scripts. Parsed in one
// place, with caps: the wheel is a project's build output (client code) or
// an index's file, so METADATA and entry_points.txt are read only up to a
// limit, and names, versions, extras and entry points are validated before
// they become image names, arguments or labels.
#ifndef PBRX_COMMON_WHEEL_WHEEL_METADATA_H_
#define PBRX_COMMON_WHEEL_WHEEL_METADATA_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pbrx::common::wheel {

struct WheelMetadata {
  std::string name, version;
  std::vector<std::string> requires_dist;
  std::vector<std::string> extras;
  std::vector<std::pair<std::string, std::string>> console_scripts;
  std::string source;  // Project-URL "Source"/"Repository", else Home-page
};

// Each of METADATA and entry_points.txt (a long README is part of METADATA:
// as large as a project file pbrx reads).
inline constexpr int64_t kMaxMetadataFileBytes = 16 << 20;

// Reads the wheel whose bytes are `bytes` (`name` names it in messages).
// INVALID_ARGUMENT naming the wheel for bytes that are not a zip, a
// METADATA without Name/Version, a file over the cap, an invalid name,
// version, extra or console script.
absl::StatusOr<WheelMetadata> ParseWheelMetadata(const std::string& name,
                                                 absl::string_view bytes);

}  // namespace pbrx::common::wheel

#endif  // PBRX_COMMON_WHEEL_WHEEL_METADATA_H_
