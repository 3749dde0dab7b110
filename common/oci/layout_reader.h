// Reading an image out of an OCI image layout someone else made (`--base
// oci:DIR[:REF]`), trusting nothing in it: every digest is checked to be
// `sha256:` + 64 hex digits before it becomes a file name; every blob is
// read beneath DIR (never through a symlink out of it, common/beneath.h),
// size-capped, and verified against its descriptor's digest and size; an
// index (or a nested index / manifest list) is resolved to the manifest of
// the wanted platform; the config's diff_ids are checked against the
// uncompressed layers. A layout that lies fails naming the blob.
//
// It does not import anything: the caller uploads the verified layer files.
#ifndef PBRX_COMMON_OCI_LAYOUT_READER_H_
#define PBRX_COMMON_OCI_LAYOUT_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/project/source_tree.h"
#include "google/protobuf/struct.pb.h"

namespace pbrx::common::oci {

struct OciImageLayer {
  Digest digest = Digest::Empty();  // compressed (or plain tar) blob
  // Verified against the uncompressed tar (with verify_layers; else as the
  // config says).
  Digest diff_id = Digest::Empty();
  std::string media_type;
  // DIR/blobs/sha256/HEX (verified, a regular file) when read from a
  // directory; "" from another tree.
  std::string path;
};

struct OciImage {
  Digest manifest = Digest::Empty();
  std::string manifest_json;        // verified bytes
  std::string manifest_media_type;  // from the manifest or its descriptor
  Digest config = Digest::Empty();
  std::string config_json;  // verified bytes
  std::vector<OciImageLayer> layers;
};

struct OciReadOptions {
  std::string os = "linux";
  std::string architecture = "amd64";
  int64_t max_json_bytes = 4 << 20;             // index, manifest, config
  int64_t max_layer_bytes = int64_t{16} << 30;  // one layer blob
  // false: layer blobs are only checked to exist with their size (a push,
  // where the registry verifies each digest); diff_id stays unverified.
  bool verify_layers = true;
  // false: the image must be for os/architecture; true: any platform (a
  // push copies what was built).
  bool any_platform = false;
};

// "sha256:HEX" (64 lowercase hex digits) and a size >= 0; INVALID_ARGUMENT
// naming `what` otherwise.
absl::StatusOr<Digest> ParseDescriptorDigest(const std::string& digest,
                                             int64_t size,
                                             const std::string& what);

// A descriptor's "digest" and "size" (a whole number >= 0), validated as
// ParseDescriptorDigest does.
absl::StatusOr<Digest> ParseDescriptor(const google::protobuf::Struct& desc,
                                       const std::string& what);

// The blobs an image manifest names: its config, then its layers, each
// descriptor validated by ParseDescriptor. INVALID_ARGUMENT naming `what`
// when it has no config, more than `max_layers` layers, or a layer that is
// not an object.
struct ManifestBlobs {
  Digest config = Digest::Empty();
  std::vector<Digest> layers;
};
absl::StatusOr<ManifestBlobs> ParseManifestBlobs(
    const google::protobuf::Struct& manifest, const std::string& what,
    int max_layers = 1000);

// An `oci:PATH[:REF]` spec split as skopeo reads it: the path ends at the
// first ':' after "oci:" (ref "" when there is none).
struct OciLayoutSpec {
  std::string dir;
  std::string ref;
};
OciLayoutSpec ParseOciLayoutSpec(const std::string& spec);

// The image `ref` (its org.opencontainers.image.ref.name; "" when the
// layout holds exactly one) of the layout `dir`. NOT_FOUND naming the refs
// when there is no such image; INVALID_ARGUMENT for malformed JSON or
// digests; DATA_LOSS naming the blob whose bytes do not match.
absl::StatusOr<OciImage> ReadOciImage(const std::string& dir,
                                      const std::string& ref,
                                      const OciReadOptions& options = {});

// The same over any tree (e.g. a layout uploaded to the CAS,
// cache/cas_source_tree.h); messages name the tree's label.
absl::StatusOr<OciImage> ReadOciImage(const project::SourceTree& tree,
                                      const std::string& ref,
                                      const OciReadOptions& options = {});

}  // namespace pbrx::common::oci

#endif  // PBRX_COMMON_OCI_LAYOUT_READER_H_
