// Extraction of one OCI layer (a tar, optionally compressed) into a
// directory, in overlayfs' own format: ".wh.<name>" whiteouts become 0:0
// character devices and ".wh..wh..opq" the trusted.overlay.opaque xattr.
//
// Layers are hostile input (a base image someone else built): every entry
// is created from its parent directory's descriptor, reached from `dest`
// without following a symlink (common/beneath.h), so a symlink in the layer
// (`x -> /etc`, then `x/cron.d/p`), a whiteout or an opaque marker below
// one, or a hard link to anything but an earlier regular file of the same
// layer can never reach the host. Symlinks are kept as symlinks (absolute
// targets are normal in a rootfs), never followed. Absolute or ".." names,
// devices, FIFOs and sockets are refused, and LayerLimits bound the
// uncompressed size, the entry count, the path length and the compression
// ratio. Owners are shifted into the sandbox id range (executor/
// sandbox_ids.h): a layer's root-owned file belongs to the sandbox's root,
// never to the host's.
#ifndef PBRX_EXECUTOR_LAYER_EXTRACT_H_
#define PBRX_EXECUTOR_LAYER_EXTRACT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "executor/sandbox_ids.h"

namespace pbrx::executor {

// Bounds on one layer's extraction (a gzip bomb, a million-entry tar).
struct LayerLimits {
  int64_t max_bytes = int64_t{32} << 30;  // uncompressed tar stream
  int64_t max_entries = 500000;
  int max_path = 4096;  // bytes of an entry's name
  // Uncompressed / compressed, checked once past 64 MiB uncompressed.
  int64_t max_ratio = 250;
  // Entry owners (uid and gid) below ids.count become ids.Host(owner);
  // larger ones are refused.
  SandboxIds ids;
};

// Extracts the layer in `file` into the existing directory `dest`.
// INVALID_ARGUMENT "entry 'NAME': why" for a refused entry or a broken
// archive ("not a tar: ..."); INTERNAL when `dest` cannot be written. On
// error `dest` holds a partial tree the caller discards.
absl::Status ExtractLayerFile(const std::string& file, const std::string& dest,
                              const LayerLimits& limits);

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_LAYER_EXTRACT_H_
