// Paths beneath a directory descriptor, never through a symlink: what the
// executor uses wherever a tree it did not write itself (a layer from a base
// image, an action's work dir after the command ran) is read or changed.
// Every component is opened from its parent's descriptor with O_NOFOLLOW,
// so a symlink planted in the tree can never redirect an operation to the
// host.
#ifndef PBRX_COMMON_BENEATH_H_
#define PBRX_COMMON_BENEATH_H_

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pbrx::common {

// An owned file descriptor (closed on destruction).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_ = -1;
};

// Opens the directory `relative` ("" = `root_fd` itself; components split
// on '/', empty ones skipped; "." and ".." refused) beneath `root_fd`.
// NOT_FOUND "'a/b' does not exist"; INVALID_ARGUMENT "'a/b' is a symlink
// (paths are never followed through one)" or "'a/b' is not a directory".
// With `create`, missing directories are made (mode 0755), as tar does for
// entries whose parents it was not given.
absl::StatusOr<UniqueFd> OpenDirBeneath(int root_fd, absl::string_view relative,
                                        bool create = false);

// The content of the regular file `relative` beneath the directory `root`,
// resolved by the kernel confined to `root` (openat2 RESOLVE_BENEATH:
// symlinks inside the tree are followed, one that leaves it, absolute or
// through "..", is refused) and read through one descriptor. NOT_FOUND when
// it does not exist; INVALID_ARGUMENT "ROOT/REL: ..." when it leaves the
// tree, when it is not a regular file (a device such as /dev/zero, a FIFO),
// or when it is larger than `max_bytes` (the limit named).
absl::StatusOr<std::string> ReadFileBeneath(const std::string& root,
                                            const std::string& relative,
                                            int64_t max_bytes);

// The content of the regular file `path`, symlinks followed (an operator's
// file, e.g. a certificate), read through one descriptor. NOT_FOUND when it
// does not exist; INVALID_ARGUMENT "PATH: ..." when it cannot be opened, is
// not a regular file or is larger than `max_bytes`.
absl::StatusOr<std::string> ReadRegularFile(const std::string& path,
                                            int64_t max_bytes);

// Opens the regular file `relative` beneath `root` as ReadFileBeneath
// resolves it (same errors), for reading in a stream.
absl::StatusOr<UniqueFd> OpenFileBeneath(const std::string& root,
                                         const std::string& relative);

// Whether `relative` is a directory beneath `root`, resolved as
// ReadFileBeneath resolves paths ("" is `root` itself).
bool IsDirBeneath(const std::string& root, const std::string& relative);

// Calls `visit` with the lstat of `path` and of everything below it
// (symlinks are visited, never followed; unreadable entries skipped).
void WalkTree(const std::string& path,
              const std::function<void(const struct stat&)>& visit);

// Gives `dir` and everything below it (never through a symlink) to
// `owner` (uid and gid), e.g. a sandbox's root.
absl::Status ChownTree(const std::string& dir, uid_t owner);

// Recursively deletes `path` (never following a symlink, at most 64
// descriptors however deep the tree). OK if absent.
absl::Status RemoveTree(const std::string& path);

// Removes `name` in `dir_fd` (a directory recursively), never following a
// symlink. OK when it does not exist.
absl::Status RemoveAt(int dir_fd, const std::string& name);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_BENEATH_H_
