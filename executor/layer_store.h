// LayerStore keeps OCI layers (gzip tar blobs in the CAS) extracted on
// local disk, each once, in overlayfs' own format so they can be stacked as
// lower directories: ".wh.<name>" whiteouts become 0:0 character devices and
// ".wh..wh..opq" becomes the trusted.overlay.opaque xattr. Extraction goes to
// a temporary directory renamed into place, so a crash never leaves a
// half-extracted layer that looks complete.
//
// Layers are hostile input: extraction (executor/layer_extract.h) never
// follows a symlink, hard link, whiteout or opaque marker out of the layer
// and is bounded by LayerLimits; every refusal is INVALID_ARGUMENT naming
// the layer and the entry.
//
// Bounded (executors): with max_bytes set, extracted layers beyond that many
// bytes on disk are removed least recently used first, except layers pinned
// by a LayerPins (those of running actions). Layers extracted by an earlier
// process are found again on start, unless it extracted them for another
// sandbox id range (LayerLimits::ids; recorded in the file "ids"): those are
// removed.
//
// Mounting: RootfsMount stacks layers read-only (or with a writable upper
// directory whose changes a step captures as a new layer) and unmounts on
// destruction.
#ifndef PBRX_EXECUTOR_LAYER_STORE_H_
#define PBRX_EXECUTOR_LAYER_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cache/blob_store.h"
#include "executor/layer_extract.h"

namespace pbrx::executor {

class LayerStore;

// Layers in use: not evicted until this object is destroyed.
class LayerPins {
 public:
  explicit LayerPins(LayerStore* store) : store_(store) {}
  LayerPins(const LayerPins&) = delete;
  LayerPins& operator=(const LayerPins&) = delete;
  ~LayerPins();

 private:
  friend class LayerStore;
  LayerStore* store_;
  std::vector<std::string> hashes_;
};

struct LayerStoreStats {
  int64_t layers = 0;
  int64_t bytes = 0;  // on disk
  int64_t evictions = 0;
  int64_t hits = 0;             // Get found the layer extracted
  int64_t misses = 0;           // Get extracted it
  int64_t extracted_bytes = 0;  // on disk, summed over the misses
};

class LayerStore {
 public:
  // `dir` is created if missing; `cas` must outlive the store. max_bytes 0:
  // unbounded.
  static absl::StatusOr<std::unique_ptr<LayerStore>> Create(
      const std::string& dir, cache::BlobStore* cas, int64_t max_bytes = 0,
      const LayerLimits& limits = {});

  // The directory holding layer `digest`, extracting it first if needed,
  // pinned in `pins` when given. FAILED_PRECONDITION (MISSING details) if
  // the blob is not in the CAS; INVALID_ARGUMENT for an unsafe or
  // malformed layer. Thread-safe.
  absl::StatusOr<std::string> Get(const common::Digest& digest,
                                  LayerPins* pins = nullptr);

  LayerStoreStats Stats();

  // A directory holding only the mount points the sandbox needs (/work,
  // /tmp, /proc, /dev). Stacked as the topmost read-only layer of every
  // rootfs, so images need not contain them. Thread-safe.
  absl::StatusOr<std::string> MountPoints();

  // A directory holding files the sandbox binds over that a base may lack:
  // an empty etc/resolv.conf (egress steps get the sandbox's resolver
  // there, and bwrap cannot create it in a read-only root). Stacked as the
  // lowest layer of every rootfs, so a base's own file and directory
  // attributes win. Owned by the sandbox range's root. Thread-safe.
  absl::StatusOr<std::string> Stubs();

 private:
  friend class LayerPins;
  struct Entry {
    int64_t bytes = 0;
    int64_t last_used = 0;  // a use counter, not a time
    int pins = 0;
  };
  LayerStore(std::string dir, cache::BlobStore* cas, int64_t max_bytes,
             const LayerLimits& limits)
      : dir_(std::move(dir)),
        cas_(cas),
        max_bytes_(max_bytes),
        limits_(limits) {}
  absl::Status Extract(const common::Digest& digest, const std::string& dest);
  void Unpin(const std::string& hash);
  // Removes unpinned layers, least recently used first, until the store
  // fits (or only pinned layers are left).
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string dir_;
  cache::BlobStore* cas_;
  const int64_t max_bytes_;
  const LayerLimits limits_;
  absl::Mutex mu_;  // one extraction at a time per store (simple and bounded)
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t uses_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t evictions_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t extracted_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

// An overlay mount of layer directories (bottom first). With `upper` and
// `work` set it is writable and its changes land in `upper`.
class RootfsMount {
 public:
  static absl::StatusOr<std::unique_ptr<RootfsMount>> Mount(
      const std::vector<std::string>& layers_bottom_first,
      const std::string& mountpoint, const std::string& upper = "",
      const std::string& work = "");
  ~RootfsMount();
  const std::string& path() const { return mountpoint_; }
  // Unmounts now (the destructor does it otherwise).
  absl::Status Unmount();

 private:
  explicit RootfsMount(std::string mp) : mountpoint_(std::move(mp)) {}
  std::string mountpoint_;
  bool mounted_ = true;
};

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_LAYER_STORE_H_
