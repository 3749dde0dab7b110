#include "executor/beneath.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pbrx::executor {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<UniqueFd> OpenDirBeneath(int root_fd, absl::string_view relative,
                                        bool create) {
  UniqueFd fd(fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (fd.get() < 0) {
    return absl::InternalError(absl::StrCat("dup: ", std::strerror(errno)));
  }
  std::string walked;
  for (absl::string_view part :
       absl::StrSplit(relative, '/', absl::SkipEmpty())) {
    std::string c(part);
    walked += (walked.empty() ? "" : "/") + c;
    if (c == "." || c == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("'", walked, "' is not a plain path"));
    }
    if (create && mkdirat(fd.get(), c.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(
          absl::StrCat("cannot create '", walked, "': ", std::strerror(errno)));
    }
    int next = openat(fd.get(), c.c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      int e = errno;
      struct stat st;
      if (fstatat(fd.get(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return absl::NotFoundError(
            absl::StrCat("'", walked, "' does not exist"));
      }
      if (S_ISLNK(st.st_mode)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "'", walked,
            "' is a symlink (paths are never followed through one)"));
      }
      if (!S_ISDIR(st.st_mode)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", walked, "' is not a directory"));
      }
      return absl::InternalError(
          absl::StrCat("cannot open '", walked, "': ", std::strerror(e)));
    }
    fd = UniqueFd(next);
  }
  return fd;
}

absl::Status RemoveAt(int dir_fd, const std::string& name) {
  struct stat st;
  if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT
               ? absl::OkStatus()
               : absl::InternalError(absl::StrCat("cannot stat ", name, ": ",
                                                  std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) {
    int sub = openat(dir_fd, name.c_str(),
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
      return absl::InternalError(
          absl::StrCat("cannot open ", name, ": ", std::strerror(errno)));
    }
    DIR* d = fdopendir(sub);  // owns `sub`
    if (d == nullptr) {
      close(sub);
      return absl::InternalError(absl::StrCat("cannot list ", name));
    }
    std::vector<std::string> names;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    absl::Status st2 = absl::OkStatus();
    for (const std::string& n : names) {
      st2 = RemoveAt(dirfd(d), n);
      if (!st2.ok()) break;
    }
    closedir(d);
    if (!st2.ok()) return st2;
    if (unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0) {
      return absl::InternalError(
          absl::StrCat("cannot remove ", name, ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  if (unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return absl::InternalError(
        absl::StrCat("cannot remove ", name, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace pbrx::executor
