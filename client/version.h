// The version of pbrx farm, printed by `pbrx version` and every daemon's
// --version. Bumped by hand on release.
#ifndef PBRX_CLIENT_VERSION_H_
#define PBRX_CLIENT_VERSION_H_

namespace pbrx {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace pbrx

#endif  // PBRX_CLIENT_VERSION_H_
