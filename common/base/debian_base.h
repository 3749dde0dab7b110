// The default base image: Debian (a suite) with Python, made by mmdebstrap
// as one deterministic OCI layer. It is an ordinary step: the coordinator
// asks for the step tool `debian-base` (common/step_tool.h) on an executor
// that offers `debian-base=mmdebstrap`; the tool runs mmdebstrap in root
// mode inside the step's sandbox, as root of the sandbox's user namespace
// (never the host's root), chroots into the tree to byte-compile it, and
// writes base.tar.gz and base.diff_id. So the base is keyed, cached and
// shared like any step, and the coordinator needs neither root nor
// mmdebstrap.
#ifndef PBRX_COMMON_BASE_DEBIAN_BASE_H_
#define PBRX_COMMON_BASE_DEBIAN_BASE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/oci/layer.h"

namespace pbrx::common::base {

struct DebianBaseSpec {
  std::string suite = "bookworm";
  std::string variant = "minbase";
  std::vector<std::string> include = {"python3", "python3-pip", "python3-venv"};
  int64_t mtime = 0;  // of the layer's entries (SOURCE_DATE_EPOCH)
  // The mirror mmdebstrap installs from ("" = its default: deb.debian.org,
  // with the -updates and -security suites of a stable release); e.g. a
  // snapshot.debian.org URL makes the base reproducible by date.
  std::string mirror;
  // The archive's state the base is built from (client/debian_release.h:
  // 64 hex digits, "" = unknown). Only a part of the step's key: a point
  // release gives a new key, so a new base.
  std::string release;
};

// ValidateDebianMirror: "" or an http(s) URL of at most 512 characters of
// [A-Za-z0-9._~:/%+-], with a host and no user:password@ (a mirror is part
// of a cache key, which must hold no secret). INVALID_ARGUMENT naming the
// rule otherwise.
absl::Status ValidateDebianMirror(const std::string& mirror);

// An InRelease file a base is built from; `required` for the suite itself.
struct ReleaseSource {
  std::string url;
  bool required = true;
};

// The sources mmdebstrap installs `suite` from, as it picks them: with a
// mirror, MIRROR/dists/SUITE; without, deb.debian.org's SUITE and (except
// for testing, unstable, sid and experimental) SUITE-updates and
// security.debian.org's SUITE-security, both optional.
std::vector<ReleaseSource> DebianReleaseSources(const std::string& suite,
                                                const std::string& mirror);

// The step's outputs, relative to its working directory.
inline constexpr char kBaseLayerFile[] = "base.tar.gz";
inline constexpr char kBaseDiffIdFile[] = "base.diff_id";

// OK when every field of `spec` can safely become an mmdebstrap argument:
// the suite matches [a-z][a-z0-9.+-]{0,63}, the variant is one mmdebstrap
// knows, the packages are Debian package names, the mirror passes
// ValidateDebianMirror and the release is "" or 64 lowercase hex digits.
// INVALID_ARGUMENT naming the field otherwise.
absl::Status ValidateDebianBaseSpec(const DebianBaseSpec& spec);

// The step's command: the step tool `debian-base` with `spec` as arguments.
// INVALID_ARGUMENT for a spec ValidateDebianBaseSpec refuses.
absl::StatusOr<std::vector<std::string>> DebianBaseArgv(
    const DebianBaseSpec& spec);

// The tool's side: `args` are what follows the tool's name in the argv
// DebianBaseArgv made. INVALID_ARGUMENT naming the argument otherwise.
absl::StatusOr<DebianBaseSpec> ParseDebianBaseArgs(
    const std::vector<std::string>& args);

// What mmdebstrap is run with to build `spec` into `rootfs` (for the tool
// and for reports).
std::vector<std::string> MmdebstrapArgv(const DebianBaseSpec& spec,
                                        const std::string& rootfs);

// Whether mmdebstrap is installed where the tool's sandbox finds it (the
// host's /usr): an executor offers debian-base=mmdebstrap only then.
bool MmdebstrapInstalled();

// Builds the base in `out_dir` (rootfs/ and the two output files); runs
// mmdebstrap and `chroot ROOTFS python3 -m compileall` from argv vectors
// with a clean environment and a time limit; their output goes to this
// process's stderr (the step's log). UNAVAILABLE naming the command when a
// tool fails.
absl::StatusOr<oci::Layer> BuildDebianBase(const DebianBaseSpec& spec,
                                           const std::string& out_dir);

}  // namespace pbrx::common::base

#endif  // PBRX_COMMON_BASE_DEBIAN_BASE_H_
