#include "executor/layer_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/beneath.h"
#include "common/missing_blobs.h"
#include "common/status_macros.h"
#include "executor/action_runner.h"

namespace pbrx::executor {
namespace {

using common::Digest;

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

bool Exists(const std::string& p) {
  struct stat st;
  return lstat(p.c_str(), &st) == 0;
}

// Bytes a tree takes on disk (allocated blocks; hard links counted once).
int64_t DiskUsage(const std::string& path) {
  int64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  common::WalkTree(path, [&](const struct stat& st) {
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) &&
        !seen.insert({st.st_dev, st.st_ino}).second)
      return;
    total += static_cast<int64_t>(st.st_blocks) * 512;
  });
  return total;
}

std::string ReadSmallFile(const std::string& path) {
  common::UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return "";
  char buf[128];
  ssize_t n = read(fd.get(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, n) : "";
}

absl::Status WriteSmallFile(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  common::UniqueFd fd(
      open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
           0600));
  if (fd.get() < 0 ||
      write(fd.get(), text.data(), text.size()) !=
          static_cast<ssize_t>(text.size()) ||
      rename(tmp.c_str(), path.c_str()) != 0) {
    return Errno("cannot write", path);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<LayerStore>> LayerStore::Create(
    const std::string& dir, cache::BlobStore* cas, int64_t max_bytes,
    const LayerLimits& limits) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Errno("cannot create", dir);
  std::unique_ptr<LayerStore> store(
      new LayerStore(dir, cas, max_bytes, limits));
  // Layers a previous process extracted (complete ones only: a crash
  // leaves ".tmp" directories, removed here).
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Errno("cannot list", dir);
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) names.push_back(e->d_name);
  closedir(d);
  std::sort(names.begin(), names.end());
  // Layers are extracted with owners shifted into the sandbox id range; ones
  // extracted for another range (or before ranges) are removed.
  const std::string ids_file = dir + "/ids";
  const std::string ids_text = limits.ids.ToString() + "\n";
  const bool same_ids = ReadSmallFile(ids_file) == ids_text;
  absl::MutexLock lock(&store->mu_);
  for (const std::string& n : names) {
    std::string path = dir + "/" + n;
    if (absl::EndsWith(n, ".tmp") || absl::EndsWith(n, ".tmp.blob")) {
      common::RemoveTree(path).IgnoreError();
      continue;
    }
    if (n.size() != 64 ||
        n.find_first_not_of("0123456789abcdef") != std::string::npos)
      continue;
    if (!same_ids) {
      common::RemoveTree(path).IgnoreError();
      continue;
    }
    Entry e;
    e.bytes = DiskUsage(path);
    e.last_used = store->uses_++;
    store->bytes_ += e.bytes;
    store->entries_[n] = e;
  }
  if (!same_ids) RETURN_IF_ERROR(WriteSmallFile(ids_file, ids_text));
  store->EvictLocked();
  return store;
}

absl::StatusOr<std::string> LayerStore::Get(const Digest& digest,
                                            LayerPins* pins) {
  const std::string& hash = digest.hash();
  std::string dest = absl::StrCat(dir_, "/", hash);
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(hash);
  if (it == entries_.end() || !Exists(dest)) {
    if (it != entries_.end()) {  // removed behind our back
      bytes_ -= it->second.bytes;
      entries_.erase(it);
    }
    std::string tmp = absl::StrCat(dest, ".tmp");
    common::RemoveTree(tmp).IgnoreError();
    if (mkdir(tmp.c_str(), 0755) != 0) return Errno("cannot create", tmp);
    absl::Status s = Extract(digest, tmp);
    if (!s.ok()) {
      common::RemoveTree(tmp).IgnoreError();
      return s;
    }
    if (rename(tmp.c_str(), dest.c_str()) != 0)
      return Errno("cannot rename", tmp);
    Entry e;
    e.bytes = DiskUsage(dest);
    bytes_ += e.bytes;
    ++misses_;
    extracted_bytes_ += e.bytes;
    it = entries_.emplace(hash, e).first;
  } else {
    ++hits_;
  }
  it->second.last_used = uses_++;
  // Pinned before eviction runs, so the layer just asked for stays.
  it->second.pins++;
  EvictLocked();
  if (pins != nullptr) {
    pins->hashes_.push_back(hash);
  } else {
    it->second.pins--;
  }
  return dest;
}

void LayerStore::EvictLocked() {
  if (max_bytes_ <= 0) return;
  while (bytes_ > max_bytes_) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.pins > 0) continue;
      if (victim == entries_.end() ||
          it->second.last_used < victim->second.last_used)
        victim = it;
    }
    if (victim == entries_.end()) return;  // everything left is in use
    common::RemoveTree(absl::StrCat(dir_, "/", victim->first)).IgnoreError();
    bytes_ -= victim->second.bytes;
    entries_.erase(victim);
    ++evictions_;
  }
}

void LayerStore::Unpin(const std::string& hash) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(hash);
  if (it != entries_.end() && it->second.pins > 0) it->second.pins--;
  EvictLocked();
}

LayerStoreStats LayerStore::Stats() {
  absl::MutexLock lock(&mu_);
  LayerStoreStats s;
  s.layers = static_cast<int64_t>(entries_.size());
  s.bytes = bytes_;
  s.evictions = evictions_;
  s.hits = hits_;
  s.misses = misses_;
  s.extracted_bytes = extracted_bytes_;
  return s;
}

LayerPins::~LayerPins() {
  for (const std::string& h : hashes_) store_->Unpin(h);
}

absl::StatusOr<std::string> LayerStore::MountPoints() {
  std::string dir = dir_ + "/mountpoints";
  absl::MutexLock lock(&mu_);
  if (Exists(dir + "/dev")) return dir;
  for (const char* d : {"", "/work", "/tmp", "/proc", "/dev"}) {
    std::string p = dir + d;
    if (mkdir(p.c_str(), 0755) != 0 && errno != EEXIST)
      return Errno("cannot create", p);
  }
  chmod((dir + "/tmp").c_str(), 01777);
  return dir;
}

absl::StatusOr<std::string> LayerStore::Stubs() {
  std::string dir = dir_ + "/stubs";
  std::string file = dir + "/etc/resolv.conf";
  const uid_t root = limits_.ids.Host(0);
  absl::MutexLock lock(&mu_);
  struct stat st;
  if (lstat(file.c_str(), &st) == 0 && st.st_uid == root) return dir;
  for (const std::string& d : {dir, dir + "/etc"}) {
    if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
      return Errno("cannot create", d);
    if (lchown(d.c_str(), root, root) != 0) return Errno("cannot chown", d);
  }
  std::string temp = file + ".tmp";
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", temp);
  close(fd);
  if (lchown(temp.c_str(), root, root) != 0 ||
      rename(temp.c_str(), file.c_str()) != 0) {
    return Errno("cannot create", file);
  }
  return dir;
}

absl::Status LayerStore::Extract(const Digest& digest,
                                 const std::string& dest) {
  // Copy the blob to a file libarchive can read (blobs stream from the CAS).
  std::string blob_file = dest + ".blob";
  {
    absl::StatusOr<std::unique_ptr<cache::BlobReader>> reader =
        cas_->OpenRead(digest, 0, 0);
    if (!reader.ok()) {
      if (reader.status().code() == absl::StatusCode::kNotFound) {
        return common::MissingBlobsError({digest}, "extracting a rootfs layer");
      }
      return reader.status();
    }
    int fd =
        open(blob_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Errno("cannot create", blob_file);
    std::string piece;
    while (true) {
      absl::StatusOr<bool> more = (*reader)->Next(&piece);
      if (!more.ok()) {
        close(fd);
        unlink(blob_file.c_str());
        return more.status();
      }
      if (!*more) break;
      if (write(fd, piece.data(), piece.size()) !=
          static_cast<ssize_t>(piece.size())) {
        close(fd);
        unlink(blob_file.c_str());
        return Errno("cannot write", blob_file);
      }
    }
    close(fd);
  }
  absl::Status status = ExtractLayerFile(blob_file, dest, limits_);
  unlink(blob_file.c_str());
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("layer ", digest.ToString(),
                                                    ": ", status.message()));
  }
  return status;
}

absl::StatusOr<std::unique_ptr<RootfsMount>> RootfsMount::Mount(
    const std::vector<std::string>& layers, const std::string& mountpoint,
    const std::string& upper, const std::string& work) {
  if (layers.empty())
    return absl::InvalidArgumentError("a rootfs needs at least one layer");
  std::vector<std::string> lower(layers.rbegin(),
                                 layers.rend());  // overlay lists top first
  std::string opts = absl::StrCat("lowerdir=", absl::StrJoin(lower, ":"));
  if (!upper.empty())
    absl::StrAppend(&opts, ",upperdir=", upper, ",workdir=", work);
  absl::StrAppend(&opts, ",redirect_dir=off,metacopy=off,index=off");
  if (layers.size() == 1 && upper.empty()) {
    // overlay needs two lowers without an upper; a read-only bind does it.
    if (mount(layers[0].c_str(), mountpoint.c_str(), nullptr, MS_BIND,
              nullptr) != 0 ||
        mount(nullptr, mountpoint.c_str(), nullptr,
              MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
      return Errno("cannot bind-mount the rootfs at", mountpoint);
    }
  } else if (mount("overlay", mountpoint.c_str(), "overlay",
                   upper.empty() ? MS_RDONLY : 0, opts.c_str()) != 0) {
    return Errno("cannot mount the overlay rootfs at", mountpoint);
  }
  return std::unique_ptr<RootfsMount>(new RootfsMount(mountpoint));
}

absl::Status RootfsMount::Unmount() {
  if (!mounted_) return absl::OkStatus();
  if (umount2(mountpoint_.c_str(), MNT_DETACH) != 0)
    return Errno("cannot unmount", mountpoint_);
  mounted_ = false;
  return absl::OkStatus();
}

RootfsMount::~RootfsMount() { Unmount().IgnoreError(); }

}  // namespace pbrx::executor
