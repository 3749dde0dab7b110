// The foreign platforms this host runs binaries of: binfmt_misc handlers
// (qemu-user, as Debian's qemu-user-static registers them) that an
// executor offers as platform=OS/ARCH[/VARIANT] properties without being
// told, as docker buildx lists them.
#ifndef PBRX_EXECUTOR_BINFMT_H_
#define PBRX_EXECUTOR_BINFMT_H_

#include <string>
#include <vector>

namespace pbrx::executor {

// Reads `dir` (normally /proc/sys/fs/binfmt_misc): each enabled entry named
// qemu-ARCH for a known ARCH (aarch64 -> linux/arm64, arm -> linux/arm/v7,
// riscv64, ppc64le, s390x) whose flags hold F: the kernel opened its
// interpreter when it was registered, so it runs binaries inside a sandbox
// that does not see the host's files. Sorted, without duplicates; empty
// when `dir` is absent or unreadable.
std::vector<std::string> BinfmtPlatforms(const std::string& dir);

// Where the kernel shows binfmt_misc.
inline constexpr char kBinfmtDir[] = "/proc/sys/fs/binfmt_misc";

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_BINFMT_H_
