#include "executor/layer_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/beneath.h"
#include "common/status_macros.h"

namespace pbrx::executor {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

bool SafeEntry(absl::string_view p) {
  if (p.empty()) return false;
  while (absl::ConsumePrefix(&p, "./")) {
  }
  // "./" (as `tar -C ROOT .` writes it first) is the layer's root itself.
  if (p.empty()) return true;
  if (p.front() == '/') return false;
  for (absl::string_view part : absl::StrSplit(p, '/', absl::SkipEmpty())) {
    if (part == "..") return false;
  }
  return true;
}

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

absl::Status EntryError(const std::string& name, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("entry '", name, "': ", why));
}

// An entry a system call failed on with `err`: a full disk is this host's
// fault (RESOURCE_EXHAUSTED: a farm runs the step elsewhere), anything else
// the layer's (INVALID_ARGUMENT, naming the entry).
absl::Status EntryErrno(const std::string& name, absl::string_view what,
                        int err) {
  if (err == ENOSPC || err == EDQUOT) {
    return absl::ResourceExhaustedError(
        absl::StrCat("entry '", name, "' ", what, ": ", std::strerror(err),
                     " (the layer store's disk is full)"));
  }
  return EntryError(name, absl::StrCat(what, ": ", std::strerror(err)));
}

// "./a/b/" -> "a/b"; "" for the root entry.
std::string Normalize(std::string name) {
  while (absl::StartsWith(name, "./")) name.erase(0, 2);
  while (!name.empty() && name.back() == '/') name.pop_back();
  return name;
}

// Writes the current entry's data into `fd`, counting it towards the
// limits as it goes.
absl::Status CopyData(archive* a, int fd, const std::string& name,
                      const LayerLimits& limits) {
  const void* buf;
  size_t size;
  la_int64_t offset;
  while (true) {
    int r = archive_read_data_block(a, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) return absl::OkStatus();
    if (r != ARCHIVE_OK) {
      return EntryError(
          name, absl::StrCat("cannot be read: ", archive_error_string(a)));
    }
    int64_t uncompressed = archive_filter_bytes(a, 0);
    if (uncompressed > limits.max_bytes) {
      return EntryError(name,
                        absl::StrCat("takes the layer over ", limits.max_bytes,
                                     " uncompressed bytes"));
    }
    int64_t compressed = std::max<int64_t>(1, archive_filter_bytes(a, -1));
    if (uncompressed > (int64_t{64} << 20) &&
        uncompressed / compressed > limits.max_ratio) {
      return EntryError(name, absl::StrCat("takes the compression ratio over ",
                                           limits.max_ratio, ":1"));
    }
    const char* data = static_cast<const char*>(buf);
    size_t done = 0;
    while (done < size) {
      ssize_t n = pwrite(fd, data + done, size - done,
                         offset + static_cast<la_int64_t>(done));
      if (n < 0 && errno == EINTR) continue;
      // A write that stores nothing without an error is a full disk too.
      if (n <= 0)
        return EntryErrno(name, "cannot be written", n < 0 ? errno : ENOSPC);
      done += static_cast<size_t>(n);
    }
  }
}

// Extracts the tar `file` into `dest` (see the header for the rules).
absl::Status ExtractEntries(archive* a, const std::string& file,
                            const std::string& dest,
                            const LayerLimits& limits) {
  if (archive_read_open_filename(a, file.c_str(), 1 << 16) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a tar: ", archive_error_string(a)));
  }
  common::UniqueFd root(open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return Errno("cannot open", dest);
  // Regular files extracted so far: the only things a hard link may name.
  std::set<std::string> files;
  int64_t entries = 0;
  archive_entry* e;
  while (true) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) return absl::OkStatus();
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return absl::InvalidArgumentError(archive_error_string(a));
    }
    const char* raw = archive_entry_pathname(e);
    std::string name = raw == nullptr ? "" : raw;
    if (++entries > limits.max_entries) {
      return EntryError(
          name, absl::StrCat("more than ", limits.max_entries, " entries"));
    }
    if (static_cast<int>(name.size()) > limits.max_path) {
      return EntryError(
          name.substr(0, 64) + "...",
          absl::StrCat("has a name longer than ", limits.max_path, " bytes"));
    }
    if (!SafeEntry(name)) return EntryError(name, "absolute or contains '..'");
    name = Normalize(name);
    if (name.empty()) continue;
    size_t slash = name.rfind('/');
    std::string parent_rel =
        slash == std::string::npos ? "" : name.substr(0, slash);
    std::string base = name.substr(slash == std::string::npos ? 0 : slash + 1);
    absl::StatusOr<common::UniqueFd> parent =
        common::OpenDirBeneath(root.get(), parent_rel, /*create=*/true);
    if (!parent.ok()) return EntryError(name, parent.status().message());
    int pfd = parent->get();
    if (base == ".wh..wh..opq") {
      if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) != 0) {
        return EntryErrno(name, "cannot mark its directory opaque", errno);
      }
      continue;
    }
    if (absl::StartsWith(base, ".wh.")) {
      std::string target = base.substr(4);
      if (target.empty() || target == "." || target == ".." ||
          absl::StartsWith(target, ".wh.")) {
        return EntryError(name, "not a valid whiteout");
      }
      RETURN_IF_ERROR(common::RemoveAt(pfd, target));
      if (mknodat(pfd, target.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) {
        return EntryErrno(name, "cannot become a whiteout", errno);
      }
      continue;
    }
    mode_t type = archive_entry_filetype(e);
    mode_t perm = archive_entry_perm(e);
    int64_t owner = archive_entry_uid(e), group = archive_entry_gid(e);
    for (int64_t id : {owner, group}) {
      if (id < 0 || id >= limits.ids.count) {
        return EntryError(
            name, absl::StrCat("has owner id ", id, ", outside the ",
                               limits.ids.count,
                               " ids of a sandbox (--sandbox-id-range)"));
      }
    }
    uid_t uid = limits.ids.Host(static_cast<uint32_t>(owner));
    gid_t gid = limits.ids.Host(static_cast<uint32_t>(group));
    // Later entries replace earlier ones, as tar extraction does.
    struct stat st;
    if (fstatat(pfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !(S_ISDIR(st.st_mode) && type == AE_IFDIR)) {
      RETURN_IF_ERROR(common::RemoveAt(pfd, base));
      files.erase(name);
    }
    if (const char* hardlink = archive_entry_hardlink(e)) {
      std::string h = hardlink;
      if (!SafeEntry(h))
        return EntryError(
            name, absl::StrCat("a hard link to '", h,
                               "', which is absolute or contains '..'"));
      h = Normalize(h);
      if (files.count(h) == 0) {
        return EntryError(name, absl::StrCat("a hard link to '", h,
                                             "', which is not an earlier "
                                             "regular file of this layer"));
      }
      size_t hs = h.rfind('/');
      absl::StatusOr<common::UniqueFd> hp = common::OpenDirBeneath(
          root.get(), hs == std::string::npos ? "" : h.substr(0, hs));
      if (!hp.ok()) return EntryError(name, hp.status().message());
      std::string hbase = h.substr(hs == std::string::npos ? 0 : hs + 1);
      if (linkat(hp->get(), hbase.c_str(), pfd, base.c_str(), 0) != 0) {
        return EntryErrno(name, "cannot be linked", errno);
      }
      files.insert(name);
      continue;
    }
    if (type == AE_IFDIR) {
      if (mkdirat(pfd, base.c_str(), 0700) != 0 && errno != EEXIST) {
        return EntryErrno(name, "cannot be created", errno);
      }
      common::UniqueFd d(openat(
          pfd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (d.get() < 0) {
        return EntryErrno(name, "cannot be opened", errno);
      }
      if (fchown(d.get(), uid, gid) != 0 || fchmod(d.get(), perm) != 0) {
        return EntryErrno(name, "cannot be given its owner and mode", errno);
      }
    } else if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      if (target == nullptr || symlinkat(target, pfd, base.c_str()) != 0) {
        return EntryErrno(name, "cannot be created", errno);
      }
      fchownat(pfd, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
    } else if (type == AE_IFREG) {
      common::UniqueFd f(
          openat(pfd, base.c_str(),
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (f.get() < 0) {
        return EntryErrno(name, "cannot be created", errno);
      }
      RETURN_IF_ERROR(CopyData(a, f.get(), name, limits));
      // Owner first: chown clears set-id bits, the mode sets them again.
      if (fchown(f.get(), uid, gid) != 0 || fchmod(f.get(), perm) != 0) {
        return EntryErrno(name, "cannot be given its owner and mode", errno);
      }
      files.insert(name);
    } else {
      return EntryError(name, "a device, FIFO or socket");
    }
  }
}

}  // namespace

absl::Status ExtractLayerFile(const std::string& file, const std::string& dest,
                              const LayerLimits& limits) {
  std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  return ExtractEntries(a.get(), file, dest, limits);
}

}  // namespace pbrx::executor
