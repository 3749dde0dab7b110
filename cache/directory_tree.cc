#include "cache/directory_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <set>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/beneath.h"
#include "common/missing_blobs.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace pbrx::cache {

absl::Status CheckMessageBlobSize(const common::Digest& d,
                                  absl::string_view what) {
  if (d.size() <= kMaxMessageBlobBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("the ", what, " ", d.ToString(), " is ", d.size(),
                   " bytes, more than the ", kMaxMessageBlobBytes,
                   " a message blob may have"));
}

namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// What a tree upload will send: every blob by digest, with its source.
struct PendingBlobs {
  std::vector<std::pair<Digest, std::string>> files;     // digest, path
  std::vector<std::pair<Digest, std::string>> messages;  // digest, bytes
};

// Hashes a file without uploading it.
absl::StatusOr<Digest> HashFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  common::Sha256 sha;
  int64_t size = 0;
  std::vector<char> buf(1 << 20);
  ssize_t n;
  while ((n = read(fd, buf.data(), buf.size())) > 0) {
    sha.Update(absl::string_view(buf.data(), static_cast<size_t>(n)));
    size += n;
  }
  close(fd);
  if (n < 0) return Errno("cannot read", path);
  return Digest::Create(sha.FinishHex(), size);
}

// Streams a file whose digest is known into the CAS (the writer's Commit
// verifies size and hash: a file that changed since it was hashed fails).
absl::Status WriteFileBlob(const std::string& path, const Digest& digest,
                           cache::BlobStore& cas) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  absl::Status st = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::unique_ptr<cache::BlobWriter> w,
                     cas.OpenWrite(digest));
    std::vector<char> buf(1 << 20);
    ssize_t n;
    while ((n = read(fd, buf.data(), buf.size())) > 0) {
      RETURN_IF_ERROR(
          w->Append(absl::string_view(buf.data(), static_cast<size_t>(n))));
    }
    if (n < 0) return Errno("cannot read", path);
    return w->Commit();
  }();
  close(fd);
  return common::Annotate(st, absl::StrCat("uploading ", path));
}

// Files up to this size go in batch writes (read whole into memory);
// larger ones are streamed.
constexpr int64_t kBatchedFileBytes = 64 * 1024;

// Reads a small file whose digest is known; FAILED_PRECONDITION when it
// no longer has that digest (it changed since it was hashed).
absl::StatusOr<std::string> ReadHashedFile(const std::string& path,
                                           const Digest& digest) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  std::string bytes(static_cast<size_t>(digest.size()) + 1, '\0');
  size_t got = 0;
  ssize_t n = 0;
  while (got < bytes.size() &&
         (n = read(fd, bytes.data() + got, bytes.size() - got)) > 0) {
    got += static_cast<size_t>(n);
  }
  close(fd);
  if (n < 0) return Errno("cannot read", path);
  bytes.resize(got);
  if (Digest::Of(bytes) != digest) {
    return absl::FailedPreconditionError(
        absl::StrCat("uploading ", path, ": it changed while it was uploaded"));
  }
  return bytes;
}

// Sends what `pending` holds and the CAS lacks, after one FindMissing:
// small files and messages in WriteBlobs batches, large files streamed.
absl::Status WritePending(const PendingBlobs& pending, cache::BlobStore& cas) {
  std::vector<Digest> all;
  for (const auto& [d, path] : pending.files) all.push_back(d);
  for (const auto& [d, bytes] : pending.messages) all.push_back(d);
  ASSIGN_OR_RETURN(std::vector<Digest> missing, cas.FindMissing(all));
  absl::flat_hash_set<Digest> wanted(missing.begin(), missing.end());
  std::deque<std::string> contents;  // stable while `batch` points at them
  std::vector<cache::BlobBytes> batch;
  for (const auto& [d, path] : pending.files) {
    if (wanted.erase(d) == 0) continue;
    if (d.size() > kBatchedFileBytes) {
      RETURN_IF_ERROR(WriteFileBlob(path, d, cas));
      continue;
    }
    ASSIGN_OR_RETURN(std::string bytes, ReadHashedFile(path, d));
    contents.push_back(std::move(bytes));
    batch.push_back({d, contents.back()});
  }
  for (const auto& [d, bytes] : pending.messages) {
    if (wanted.erase(d) == 0) continue;
    batch.push_back({d, bytes});
  }
  return batch.empty() ? absl::OkStatus() : cas.WriteBlobs(batch);
}

absl::StatusOr<Digest> UploadRec(const std::string& dir, PendingBlobs& pending,
                                 UploadedTree* out, re::Directory* self) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Errno("cannot list", dir);
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  re::Directory directory;
  for (const std::string& n : names) {
    std::string path = dir + "/" + n;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return Errno("cannot stat", path);
    if (S_ISDIR(st.st_mode)) {
      re::Directory child;
      ASSIGN_OR_RETURN(Digest cd, UploadRec(path, pending, out, &child));
      auto* node = directory.add_directories();
      node->set_name(n);
      *node->mutable_digest() = cd.ToProto();
      *out->tree.add_children() = child;
    } else if (S_ISREG(st.st_mode)) {
      ASSIGN_OR_RETURN(Digest fd, HashFile(path));
      pending.files.emplace_back(fd, path);
      auto* node = directory.add_files();
      node->set_name(n);
      *node->mutable_digest() = fd.ToProto();
      node->set_is_executable((st.st_mode & 0111) != 0);
      ++out->files;
      out->bytes += fd.size();
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n2 = readlink(path.c_str(), target.data(), target.size());
      if (n2 < 0) return Errno("cannot read link", path);
      target.resize(static_cast<size_t>(n2));
      auto* node = directory.add_symlinks();
      node->set_name(n);
      node->set_target(target);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": sockets, FIFOs and devices cannot be uploaded"));
    }
  }
  *self = directory;
  std::string bytes = directory.SerializeAsString();
  Digest digest = Digest::Of(bytes);
  pending.messages.emplace_back(digest, std::move(bytes));
  return digest;
}

}  // namespace

absl::Status CheckBeneath(const std::string& root,
                          const std::string& relative) {
  common::UniqueFd r(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (r.get() < 0) return Errno("cannot open", root);
  size_t slash = relative.rfind('/');
  if (slash == std::string::npos) return absl::OkStatus();
  return common::OpenDirBeneath(r.get(), relative.substr(0, slash)).status();
}

namespace {

bool SafeName(const std::string& n) {
  return !n.empty() && n.size() <= 255 && n != "." && n != ".." &&
         n.find('/') == std::string::npos && n.find('\0') == std::string::npos;
}

// Bounds on a staged tree (a REAPI client's): directory depth and the
// length of a path below the work dir, so that neither recursion nor the
// kernel's PATH_MAX decides what happens.
constexpr int kMaxStagedDepth = 256;
constexpr size_t kMaxStagedPath = 3000;

// INVALID_ARGUMENT unless every name in `dir` is safe, unique among its
// files, symlinks and directories, and short enough below `rel`.
absl::Status CheckNames(const re::Directory& dir, const std::string& rel) {
  std::set<std::string> seen;
  auto check = [&](const std::string& name, const char* kind) {
    if (!SafeName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsafe ", kind, " name '",
                       absl::CHexEscape(name.substr(0, 300)), "'"));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("name '", absl::CHexEscape(name), "' appears twice in ",
                       rel.empty() ? "the input root" : "'" + rel + "'"));
    }
    if (rel.size() + 1 + name.size() > kMaxStagedPath) {
      return absl::InvalidArgumentError(
          absl::StrCat("input path '", rel.substr(0, 100), ".../", name,
                       "' is longer than ", kMaxStagedPath, " bytes"));
    }
    return absl::OkStatus();
  };
  for (const auto& f : dir.files()) RETURN_IF_ERROR(check(f.name(), "file"));
  for (const auto& l : dir.symlinks())
    RETURN_IF_ERROR(check(l.name(), "symlink"));
  for (const auto& d : dir.directories())
    RETURN_IF_ERROR(check(d.name(), "directory"));
  return absl::OkStatus();
}

// Depth of `target` relative to a symlink at `depth` levels below the root:
// refuse absolute targets and targets that climb above the root.
bool SafeSymlink(const std::string& target, int depth) {
  if (target.empty() || target.front() == '/') return false;
  int level = depth;
  for (absl::string_view part :
       absl::StrSplit(target, '/', absl::SkipEmpty())) {
    if (part == "..") {
      if (--level < 0) return false;
    } else if (part != ".") {
      ++level;
    }
  }
  return true;
}

// Whether the symlink at `link` (relative to `root`, whose whole tree is
// on disk) resolves beneath `root` when every symlink on the way is
// followed as the kernel would inside the sandbox (chains such as
// `a/up -> ..` then `esc -> a/up/..` included). Resolution is simulated
// with lstat/readlink on components already known to be real directories,
// so nothing outside `root` is ever touched. A dangling remainder stays
// beneath. `via` names the symlink that made it leave.
bool ResolvesBeneath(const std::string& root, const std::string& link,
                     std::string* via) {
  std::vector<std::string> stack = absl::StrSplit(link, '/');
  stack.pop_back();  // the link's own name: resolution starts in its dir
  std::string target;
  {
    std::string buf(4096, '\0');
    ssize_t n = readlink((root + "/" + link).c_str(), buf.data(), buf.size());
    if (n < 0) return false;
    target.assign(buf.data(), static_cast<size_t>(n));
  }
  *via = link;
  std::deque<std::string> todo;
  if (!target.empty() && target.front() == '/') return false;
  for (absl::string_view p : absl::StrSplit(target, '/', absl::SkipEmpty()))
    todo.emplace_back(p);
  int hops = 0;
  while (!todo.empty()) {
    std::string c = todo.front();
    todo.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      if (stack.empty()) return false;
      stack.pop_back();
      continue;
    }
    std::string rel = absl::StrJoin(stack, "/");
    rel = rel.empty() ? c : rel + "/" + c;
    struct stat st;
    if (lstat((root + "/" + rel).c_str(), &st) != 0) {
      stack.push_back(c);  // dangling: whatever follows stays beneath
      continue;
    }
    if (!S_ISLNK(st.st_mode)) {
      stack.push_back(c);
      continue;
    }
    if (++hops > 40) return false;  // as the kernel's ELOOP
    std::string buf(4096, '\0');
    ssize_t n = readlink((root + "/" + rel).c_str(), buf.data(), buf.size());
    if (n < 0) return false;
    std::string next(buf.data(), static_cast<size_t>(n));
    *via = rel;
    if (!next.empty() && next.front() == '/') return false;
    std::vector<std::string> parts =
        absl::StrSplit(next, '/', absl::SkipEmpty());
    todo.insert(todo.begin(), parts.begin(), parts.end());
  }
  return true;
}

absl::Status StageRec(const re::Directory& dir, cache::BlobStore& cas,
                      const std::string& dest, int depth,
                      const std::string& rel, std::vector<std::string>* links) {
  if (depth > kMaxStagedDepth) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input tree deeper than ", kMaxStagedDepth, " directories"));
  }
  RETURN_IF_ERROR(CheckNames(dir, rel));
  for (const auto& f : dir.files()) {
    ASSIGN_OR_RETURN(Digest d, Digest::FromProto(f.digest()));
    std::string path = dest + "/" + f.name();
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  f.is_executable() ? 0755 : 0644);
    if (fd < 0) return Errno("cannot create", path);
    absl::StatusOr<std::unique_ptr<cache::BlobReader>> reader =
        cas.OpenRead(d, 0, 0);
    if (!reader.ok()) {
      close(fd);
      if (reader.status().code() == absl::StatusCode::kNotFound) {
        return common::MissingBlobsError({d}, "staging the input root");
      }
      return reader.status();
    }
    std::string piece;
    while (true) {
      absl::StatusOr<bool> more = (*reader)->Next(&piece);
      if (!more.ok()) {
        close(fd);
        return more.status();
      }
      if (!*more) break;
      if (write(fd, piece.data(), piece.size()) !=
          static_cast<ssize_t>(piece.size())) {
        close(fd);
        return Errno("cannot write", path);
      }
    }
    close(fd);
  }
  for (const auto& l : dir.symlinks()) {
    if (!SafeSymlink(l.target(), depth)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "symlink '", l.name(), "' -> '", absl::CHexEscape(l.target()),
          "' is unsafe (absolute or leaves the tree)"));
    }
    std::string path = dest + "/" + l.name();
    if (symlink(l.target().c_str(), path.c_str()) != 0)
      return Errno("cannot create", path);
    links->push_back(rel.empty() ? l.name() : rel + "/" + l.name());
  }
  for (const auto& sub : dir.directories()) {
    ASSIGN_OR_RETURN(
        re::Directory child,
        ReadProtoBlob<re::Directory>(cas, sub.digest(), "input directory"));
    std::string path = dest + "/" + sub.name();
    if (mkdir(path.c_str(), 0755) != 0) return Errno("cannot create", path);
    RETURN_IF_ERROR(StageRec(child, cas, path, depth + 1,
                             rel.empty() ? sub.name() : rel + "/" + sub.name(),
                             links));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Digest> UploadFile(const std::string& path,
                                  cache::BlobStore& cas) {
  ASSIGN_OR_RETURN(std::vector<Digest> d, UploadFiles({path}, cas));
  return d.front();
}

absl::StatusOr<std::vector<Digest>> UploadFiles(
    absl::Span<const std::string> paths, cache::BlobStore& cas) {
  PendingBlobs pending;
  std::vector<Digest> out;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(Digest d, HashFile(path));
    pending.files.emplace_back(d, path);
    out.push_back(d);
  }
  RETURN_IF_ERROR(WritePending(pending, cas));
  return out;
}

absl::StatusOr<UploadedTree> UploadDirectory(const std::string& dir,
                                             cache::BlobStore& cas) {
  UploadedTree out;
  re::Directory root;
  PendingBlobs pending;
  ASSIGN_OR_RETURN(out.root, UploadRec(dir, pending, &out, &root));
  *out.tree.mutable_root() = root;
  // One FindMissing for the whole tree (a remote cache gets one round trip
  // for an unchanged project), then only the missing blobs are sent, the
  // small ones in batches.
  RETURN_IF_ERROR(WritePending(pending, cas));
  return out;
}

absl::Status StageDirectory(const Digest& root, cache::BlobStore& cas,
                            const std::string& dest) {
  ASSIGN_OR_RETURN(re::Directory dir, ReadProtoBlob<re::Directory>(
                                          cas, root.ToProto(), "input root"));
  std::vector<std::string> links;
  RETURN_IF_ERROR(StageRec(dir, cas, dest, 0, "", &links));
  // Each link is safe on its own (checked above); chains are checked once
  // the whole tree exists.
  for (const std::string& link : links) {
    std::string via;
    if (!ResolvesBeneath(dest, link, &via)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "symlink '", link, "' leaves the tree when followed (through '", via,
          "')"));
    }
  }
  return absl::OkStatus();
}

absl::Status BlobToFile(cache::BlobStore& cas, const Digest& d,
                        const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<cache::BlobReader> r, cas.OpenRead(d, 0, 0));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string piece;
  while (true) {
    ASSIGN_OR_RETURN(bool more, r->Next(&piece));
    if (!more) break;
    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace pbrx::cache
