#include "common/beneath.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pbrx::common {

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

absl::StatusOr<UniqueFd> OpenFileBeneath(const std::string& root,
                                         const std::string& relative) {
  const std::string where = root + "/" + relative;
  UniqueFd r(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (r.get() < 0) {
    return errno == ENOENT
               ? absl::NotFoundError(absl::StrCat(root, " does not exist"))
               : absl::InvalidArgumentError(absl::StrCat(
                     "cannot open ", root, ": ", std::strerror(errno)));
  }
  // The kernel resolves the path confined to `root`: symlinks inside the
  // tree are followed, anything that would leave it (an absolute symlink,
  // "..") fails with EXDEV. O_NONBLOCK: a FIFO cannot stall the open.
  struct open_how how = {};
  how.flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  UniqueFd f(static_cast<int>(
      syscall(SYS_openat2, r.get(), relative.c_str(), &how, sizeof(how))));
  if (f.get() < 0) {
    switch (errno) {
      case ENOENT:
      case ENOTDIR:
        return absl::NotFoundError(absl::StrCat(where, " does not exist"));
      case EXDEV:
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": leaves ", root,
                         " (through a symlink or '..'); files are read only "
                         "beneath it"));
      case ELOOP:
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": too many symlinks"));
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("cannot open ", where, ": ", std::strerror(errno)));
    }
  }
  struct stat st;
  if (fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": is not a regular file"));
  }
  return f;
}

bool IsDirBeneath(const std::string& root, const std::string& relative) {
  UniqueFd r(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (r.get() < 0) return false;
  if (relative.empty()) return true;
  struct open_how how = {};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  UniqueFd d(static_cast<int>(
      syscall(SYS_openat2, r.get(), relative.c_str(), &how, sizeof(how))));
  return d.get() >= 0;
}

namespace {

// Reads the open regular file `fd` (`where` names it), at most `max_bytes`.
absl::StatusOr<std::string> ReadCapped(int fd, const std::string& where,
                                       int64_t max_bytes) {
  struct stat st;
  fstat(fd, &st);
  if (st.st_size > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": ", st.st_size, " bytes, more than the limit of ", max_bytes));
  }
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (static_cast<int64_t>(out.size()) > max_bytes) {  // grew meanwhile
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": more than the limit of ", max_bytes, " bytes"));
    }
  }
  if (n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", where, ": ", std::strerror(errno)));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> ReadFileBeneath(const std::string& root,
                                            const std::string& relative,
                                            int64_t max_bytes) {
  absl::StatusOr<UniqueFd> f = OpenFileBeneath(root, relative);
  if (!f.ok()) return f.status();
  return ReadCapped(f->get(), root + "/" + relative, max_bytes);
}

absl::StatusOr<std::string> ReadRegularFile(const std::string& path,
                                            int64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    std::string why = std::strerror(errno);
    if (errno == ENOENT) return absl::NotFoundError(path + ": " + why);
    return absl::InvalidArgumentError(path + ": " + why);
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return absl::InvalidArgumentError(path + ": not a regular file");
  return ReadCapped(fd.get(), path, max_bytes);
}

void WalkTree(const std::string& path,
              const std::function<void(const struct stat&)>& visit) {
  std::vector<std::string> todo = {path};
  while (!todo.empty()) {
    std::string p = todo.back();
    todo.pop_back();
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) continue;
    visit(st);
    if (!S_ISDIR(st.st_mode)) continue;
    DIR* d = opendir(p.c_str());
    if (d == nullptr) continue;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") todo.push_back(p + "/" + n);
    }
    closedir(d);
  }
}

namespace {

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

}  // namespace

absl::Status RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (nftw(path.c_str(), RemoveEntry, 64, FTW_DEPTH | FTW_PHYS) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot remove ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
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

// Gives the directory `fd` and everything below it (never through a
// symlink) to `owner`, the sandbox's root.
namespace {

absl::Status ChownTreeAt(int fd, const std::string& path, uid_t owner) {
  if (fchown(fd, owner, owner) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot give ", path,
                     " to the sandbox's root: ", std::strerror(errno)));
  }
  int listing = dup(fd);
  DIR* d = listing < 0 ? nullptr : fdopendir(listing);
  if (d == nullptr) {
    if (listing >= 0) close(listing);
    return absl::InternalError(
        absl::StrCat("cannot list ", path, ": ", std::strerror(errno)));
  }
  rewinddir(d);
  absl::Status result = absl::OkStatus();
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string child = path + "/" + name;
    UniqueFd sub(openat(fd, name.c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub.get() >= 0) {
      result = ChownTreeAt(sub.get(), child, owner);
    } else if (fchownat(fd, name.c_str(), owner, owner, AT_SYMLINK_NOFOLLOW) !=
               0) {
      result = absl::InternalError(
          absl::StrCat("cannot give ", child,
                       " to the sandbox's root: ", std::strerror(errno)));
    }
    if (!result.ok()) break;
  }
  closedir(d);
  return result;
}

}  // namespace

absl::Status ChownTree(const std::string& dir, uid_t owner) {
  UniqueFd fd(
      open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", dir, ": ", std::strerror(errno)));
  }
  return ChownTreeAt(fd.get(), dir, owner);
}

}  // namespace pbrx::common
