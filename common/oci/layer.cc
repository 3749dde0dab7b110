#include "common/oci/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace pbrx::common::oci {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

std::string Xattr(const std::string& path, const char* name) {
  char buf[256];
  ssize_t n = lgetxattr(path.c_str(), name, buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// libarchive converts names from the locale's charset to UTF-8. File names
// are UTF-8 on our systems, so this thread uses a UTF-8 C locale while a
// layer is written (uselocale is per thread; the process locale is untouched).
class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() {
    loc_ = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (loc_ != static_cast<locale_t>(0)) old_ = uselocale(loc_);
  }
  ~ScopedUtf8Locale() {
    if (loc_ != static_cast<locale_t>(0)) {
      uselocale(old_);
      freelocale(loc_);
    }
  }

 private:
  locale_t loc_;
  locale_t old_ = static_cast<locale_t>(0);
};

class TarBuilder {
 public:
  TarBuilder(const std::string& root, const LayerOptions& options)
      : root_(root), options_(options) {}

  absl::Status Open(const std::string& tar_path) {
    a_.reset(archive_write_new());
    if (archive_write_set_format_pax_restricted(a_.get()) != ARCHIVE_OK ||
        archive_write_open_filename(a_.get(), tar_path.c_str()) != ARCHIVE_OK) {
      return absl::InternalError(absl::StrCat("cannot write ", tar_path, ": ",
                                              archive_error_string(a_.get())));
    }
    return absl::OkStatus();
  }

  absl::Status Walk(const std::string& rel) {
    std::string dir = rel.empty() ? root_ : root_ + "/" + rel;
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
    if (d == nullptr) return Errno("cannot list", dir);
    std::vector<std::string> names;
    while (dirent* e = readdir(d.get())) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
      std::string child = rel.empty() ? n : rel + "/" + n;
      if (Excluded(child)) continue;
      RETURN_IF_ERROR(Add(child));
    }
    return absl::OkStatus();
  }

  absl::Status Close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) {
      return absl::InternalError(absl::StrCat("cannot finish the tar: ",
                                              archive_error_string(a_.get())));
    }
    return absl::OkStatus();
  }

  int64_t entries() const { return entries_; }

 private:
  bool Excluded(const std::string& rel) const {
    for (const std::string& p : options_.exclude_prefixes) {
      if (absl::EndsWith(p, "/")) {
        // "dir/" drops what is inside dir, keeps dir itself.
        if (absl::StartsWith(rel, p) && rel.size() > p.size()) return true;
      } else if (rel == p || absl::StartsWith(rel, p + "/")) {
        return true;
      }
    }
    return false;
  }

  std::unique_ptr<archive_entry, EntryDeleter> NewEntry(const std::string& name,
                                                        mode_t type,
                                                        mode_t perm) {
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), perm);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_mtime(e.get(), options_.mtime, 0);
    return e;
  }

  absl::Status WriteHeader(archive_entry* e, const std::string& rel) {
    if (archive_write_header(a_.get(), e) != ARCHIVE_OK) {
      return absl::InternalError(
          absl::StrCat("cannot add ", rel,
                       " to the layer: ", archive_error_string(a_.get())));
    }
    ++entries_;
    return absl::OkStatus();
  }

  absl::Status AddWhiteout(const std::string& rel) {
    size_t slash = rel.rfind('/');
    std::string wh =
        slash == std::string::npos
            ? ".wh." + rel
            : rel.substr(0, slash + 1) + ".wh." + rel.substr(slash + 1);
    auto e = NewEntry(wh, AE_IFREG, 0644);
    archive_entry_set_size(e.get(), 0);
    return WriteHeader(e.get(), rel);
  }

  absl::Status Add(const std::string& rel) {
    std::string path = root_ + "/" + rel;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return Errno("cannot stat", path);
    mode_t perm = st.st_mode & 07777;
    if (options_.overlay_upper) {
      if (!Xattr(path, "trusted.overlay.redirect").empty() ||
          !Xattr(path, "trusted.overlay.metacopy").empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(rel,
                         " carries an overlay redirect/metacopy xattr; mount "
                         "the overlay with "
                         "redirect_dir=off,metacopy=off"));
      }
      if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 &&
          minor(st.st_rdev) == 0) {
        return AddWhiteout(rel);
      }
    }
    if (S_ISDIR(st.st_mode)) {
      auto e = NewEntry(rel + "/", AE_IFDIR, perm);
      RETURN_IF_ERROR(WriteHeader(e.get(), rel));
      if (options_.overlay_upper &&
          Xattr(path, "trusted.overlay.opaque") == "y") {
        auto o = NewEntry(rel + "/.wh..wh..opq", AE_IFREG, 0644);
        archive_entry_set_size(o.get(), 0);
        RETURN_IF_ERROR(WriteHeader(o.get(), rel));
      }
      return Walk(rel);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = readlink(path.c_str(), target.data(), target.size());
      if (n < 0) return Errno("cannot read link", path);
      target.resize(static_cast<size_t>(n));
      auto e = NewEntry(rel, AE_IFLNK, 0777);
      archive_entry_copy_symlink(e.get(), target.c_str());
      archive_entry_set_size(e.get(), 0);
      return WriteHeader(e.get(), rel);
    }
    if (S_ISREG(st.st_mode)) {
      auto e = NewEntry(rel, AE_IFREG, perm);
      archive_entry_set_size(e.get(), st.st_size);
      RETURN_IF_ERROR(WriteHeader(e.get(), rel));
      int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return Errno("cannot open", path);
      std::vector<char> buf(1 << 20);
      int64_t left = st.st_size;
      while (left > 0) {
        ssize_t n = read(fd, buf.data(), buf.size());
        if (n <= 0) {
          close(fd);
          return n < 0 ? Errno("cannot read", path)
                       : absl::InternalError(
                             absl::StrCat(path, " shrank while being read"));
        }
        n = std::min<ssize_t>(n, left);
        if (archive_write_data(a_.get(), buf.data(), static_cast<size_t>(n)) !=
            n) {
          close(fd);
          return absl::InternalError(absl::StrCat(
              "cannot write ", rel, ": ", archive_error_string(a_.get())));
        }
        left -= n;
      }
      close(fd);
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat(
        rel, ": sockets, FIFOs and device files cannot go into a layer"));
  }

  std::string root_;
  LayerOptions options_;
  std::unique_ptr<archive, ArchiveDeleter> a_;
  int64_t entries_ = 0;
};

// Hashes `tar_path` (diff_id) while gzipping it into `gz_path` with a fixed
// header (mtime 0), hashing the output (digest).
absl::Status Gzip(const std::string& tar_path, const std::string& gz_path,
                  Layer* layer) {
  FILE* in = std::fopen(tar_path.c_str(), "rb");
  if (in == nullptr) return Errno("cannot open", tar_path);
  FILE* out = std::fopen(gz_path.c_str(), "wb");
  if (out == nullptr) {
    std::fclose(in);
    return Errno("cannot create", gz_path);
  }
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  gz_header header{};
  header.os = 3;  // Unix, whatever the build machine
  deflateSetHeader(&z, &header);
  Sha256 raw_sha, gz_sha;
  int64_t raw_size = 0, gz_size = 0;
  std::vector<unsigned char> inbuf(1 << 20), outbuf(1 << 20);
  bool ok = true;
  int flush = Z_NO_FLUSH;
  while (flush != Z_FINISH) {
    size_t n = std::fread(inbuf.data(), 1, inbuf.size(), in);
    if (std::ferror(in)) {
      ok = false;
      break;
    }
    raw_sha.Update(absl::string_view(reinterpret_cast<char*>(inbuf.data()), n));
    raw_size += static_cast<int64_t>(n);
    flush = std::feof(in) ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = inbuf.data();
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = outbuf.data();
      z.avail_out = static_cast<uInt>(outbuf.size());
      deflate(&z, flush);
      size_t have = outbuf.size() - z.avail_out;
      gz_sha.Update(
          absl::string_view(reinterpret_cast<char*>(outbuf.data()), have));
      gz_size += static_cast<int64_t>(have);
      if (std::fwrite(outbuf.data(), 1, have, out) != have) ok = false;
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  std::fclose(in);
  if (std::fflush(out) != 0 || fsync(fileno(out)) != 0) ok = false;
  std::fclose(out);
  if (!ok)
    return absl::InternalError(absl::StrCat("cannot compress ", tar_path));
  ASSIGN_OR_RETURN(layer->diff_id,
                   Digest::Create(raw_sha.FinishHex(), raw_size));
  ASSIGN_OR_RETURN(layer->digest, Digest::Create(gz_sha.FinishHex(), gz_size));
  return absl::OkStatus();
}

}  // namespace

std::string DiffIdText(const Digest& diff_id) {
  return absl::StrCat("sha256:", diff_id.hash());
}

absl::StatusOr<Digest> ParseDiffId(absl::string_view text) {
  absl::string_view hash = absl::StripAsciiWhitespace(text);
  if (!absl::ConsumePrefix(&hash, "sha256:")) {
    return absl::InvalidArgumentError(
        absl::StrCat("diff_id '", text, "' is not sha256:<hex>"));
  }
  return Digest::Create(hash, 0);
}

int64_t SourceDateEpoch() {
  const char* v = std::getenv("SOURCE_DATE_EPOCH");
  int64_t epoch = 0;
  if (v != nullptr && absl::SimpleAtoi(v, &epoch) && epoch >= 0) return epoch;
  return 0;
}

std::vector<std::string> PackageNoisePrefixes() {
  return {"var/lib/apt/lists/",
          "var/cache/apt/",
          "var/log/",
          "var/cache/debconf/config.dat-old",
          "var/cache/debconf/templates.dat-old",
          "var/lib/dpkg/status-old",
          "var/lib/dpkg/diversions-old",
          "var/lib/dpkg/lock",
          "var/lib/dpkg/lock-frontend",
          "var/cache/ldconfig/aux-cache",
          "var/lib/apt/extended_states",
          "var/cache/apk/",
          "lib/apk/db/lock",
          "tmp/",
          "root/.cache"};
}

absl::StatusOr<Layer> WriteLayer(const std::string& root,
                                 const std::string& out_path,
                                 const LayerOptions& options) {
  struct stat st;
  if (stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat(root, ": no such directory"));
  }
  std::string tar_path = out_path + ".tmp.tar";
  std::string gz_tmp = out_path + ".tmp.gz";
  Layer layer;
  absl::Status status = [&]() -> absl::Status {
    ScopedUtf8Locale utf8;
    TarBuilder tar(root, options);
    RETURN_IF_ERROR(tar.Open(tar_path));
    RETURN_IF_ERROR(tar.Walk(""));
    RETURN_IF_ERROR(tar.Close());
    layer.entries = tar.entries();
    RETURN_IF_ERROR(Gzip(tar_path, gz_tmp, &layer));
    if (rename(gz_tmp.c_str(), out_path.c_str()) != 0)
      return Errno("cannot rename", gz_tmp);
    return absl::OkStatus();
  }();
  unlink(tar_path.c_str());
  if (!status.ok()) {
    unlink(gz_tmp.c_str());
    return status;
  }
  layer.path = out_path;
  return layer;
}

}  // namespace pbrx::common::oci
