// Debian version ordering as bindep applies it to version constraints:
// [epoch:]upstream[-revision], compared epoch first (numerically), then
// upstream, then revision, each with dpkg's algorithm (runs of non-digits
// compared with letters before non-letters and '~' before everything, even
// the end; runs of digits compared numerically).
#ifndef PBRX_COMMON_BINDEP_DEBIAN_VERSION_H_
#define PBRX_COMMON_BINDEP_DEBIAN_VERSION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pbrx::common::bindep {

struct DebianVersion {
  std::string epoch;  // "0" when absent
  std::string upstream;
  std::string revision;  // "" when absent
};

// Splits a version the way bindep's grammar does (the revision is after the
// last '-'). INVALID_ARGUMENT if it is not a Debian version.
absl::StatusOr<DebianVersion> ParseDebianVersion(absl::string_view text);

// <0, 0 or >0. Both must parse; an unparsable version compares as a plain
// string against the other (and the caller is told through `ok`).
int CompareDebianVersions(absl::string_view a, absl::string_view b,
                          bool* ok = nullptr);

// Whether `installed` satisfies `op constraint` as bindep decides it: "=="
// and "!=" compare the strings exactly; the others use Debian ordering.
bool SatisfiesConstraint(absl::string_view installed, absl::string_view op,
                         absl::string_view constraint);

}  // namespace pbrx::common::bindep

#endif  // PBRX_COMMON_BINDEP_DEBIAN_VERSION_H_
