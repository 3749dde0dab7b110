// The version of pbrx farm, printed by `pbrx version` and every daemon's
// --version. Bumped by hand on release.
#ifndef PBRX_COMMON_VERSION_H_
#define PBRX_COMMON_VERSION_H_

namespace pbrx {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace pbrx

#endif  // PBRX_COMMON_VERSION_H_
