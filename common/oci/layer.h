// Deterministic OCI layers from directory trees.
//
// WriteLayer walks a directory (sorted by path, bytewise), and writes an
// uncompressed tar (PAX where needed) with uid/gid 0, no user/group names,
// permission bits kept, every mtime set to one fixed time
// (SOURCE_DATE_EPOCH), and no atime/ctime/xattrs; then gzips it with a fixed
// header. The same tree gives the same bytes, hence the same digests, on any
// machine with the same zlib.
//
// In overlay mode the tree is an overlayfs upper directory: a character
// device 0:0 becomes a whiteout ".wh.<name>"; a directory with the xattr
// trusted.overlay.opaque="y" becomes the directory plus ".wh..wh..opq";
// redirect and metacopy xattrs are refused (mount with redirect_dir=off,
// metacopy=off). Paths matching an exclude prefix (e.g. apt lists, logs) are
// left out. Hard links are written as separate files; sockets, FIFOs and
// other devices are refused.
#ifndef PBRX_COMMON_OCI_LAYER_H_
#define PBRX_COMMON_OCI_LAYER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"

namespace pbrx::common::oci {

struct LayerOptions {
  int64_t mtime = 0;  // seconds since the epoch for every entry
  bool overlay_upper = false;
  // Relative path prefixes to leave out ("var/lib/apt/lists/" drops the
  // directory's contents, "var/log" the entry and everything below).
  std::vector<std::string> exclude_prefixes;
};

inline constexpr char kGzipLayerMediaType[] =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr char kTarLayerMediaType[] =
    "application/vnd.oci.image.layer.v1.tar";

struct Layer {
  std::string path;                  // the .tar.gz written
  Digest digest = Digest::Empty();   // of the compressed blob
  Digest diff_id = Digest::Empty();  // of the uncompressed tar
  int64_t entries = 0;
  std::string media_type = kGzipLayerMediaType;  // layers we write are gzip
};

// Writes the layer for `root` to `out_path` (a temporary file next to it is
// renamed into place only on success). INVALID_ARGUMENT for content that
// cannot be represented (unsupported file types, overlay redirects).
absl::StatusOr<Layer> WriteLayer(const std::string& root,
                                 const std::string& out_path,
                                 const LayerOptions& options);

// A diff_id as OCI configs spell it ("sha256:<hex>"), and back. Only the
// hash matters for a diff_id; the parsed Digest has size 0.
// INVALID_ARGUMENT for anything else.
std::string DiffIdText(const Digest& diff_id);
absl::StatusOr<Digest> ParseDiffId(absl::string_view text);

// The noise package managers (apt/dpkg, apk) leave that never belongs in a
// layer: indexes, caches, logs, locks, backup files.
std::vector<std::string> PackageNoisePrefixes();

// SOURCE_DATE_EPOCH from the environment if set and valid, else 0.
int64_t SourceDateEpoch();

}  // namespace pbrx::common::oci

#endif  // PBRX_COMMON_OCI_LAYER_H_
