// LayerStore keeps OCI layers (gzip tar blobs in the CAS) extracted on
// local disk, each once, in overlayfs' own format so they can be stacked as
// lower directories: ".wh.<name>" whiteouts become 0:0 character devices and
// ".wh..wh..opq" becomes the trusted.overlay.opaque xattr. Extraction goes to
// a temporary directory renamed into place, so a crash never leaves a
// half-extracted layer that looks complete. Layer entries that are absolute,
// contain "..", or are device nodes are refused.
//
// Mounting: RootfsMount stacks layers read-only (or with a writable upper
// directory whose changes a step captures as a new layer) and unmounts on
// destruction.
#ifndef PBRX_EXECUTOR_LAYER_STORE_H_
#define PBRX_EXECUTOR_LAYER_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cache/blob_store.h"

namespace pbrx::executor {

class LayerStore {
 public:
  // `dir` is created if missing; `cas` must outlive the store.
  static absl::StatusOr<std::unique_ptr<LayerStore>> Create(
      const std::string& dir, cache::BlobStore* cas);

  // The directory holding layer `digest`, extracting it first if needed.
  // FAILED_PRECONDITION (MISSING details) if the blob is not in the CAS;
  // INVALID_ARGUMENT for an unsafe or malformed layer. Thread-safe.
  absl::StatusOr<std::string> Get(const common::Digest& digest);

  // A directory holding only the mount points the sandbox needs (/work,
  // /tmp, /proc, /dev). Stacked as the topmost read-only layer of every
  // rootfs, so images need not contain them. Thread-safe.
  absl::StatusOr<std::string> MountPoints();

 private:
  LayerStore(std::string dir, cache::BlobStore* cas)
      : dir_(std::move(dir)), cas_(cas) {}
  absl::Status Extract(const common::Digest& digest, const std::string& dest);

  std::string dir_;
  cache::BlobStore* cas_;
  absl::Mutex mu_;  // one extraction at a time per store (simple and bounded)
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
