#include "common/oci/layout_reader.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/beneath.h"
#include "common/json_struct.h"
#include "common/project/source_tree.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "google/protobuf/struct.pb.h"

namespace pbrx::common::oci {
namespace {

using google::protobuf::Struct;

constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kDockerList[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";

std::vector<const Struct*> List(const Struct& s, const std::string& key) {
  std::vector<const Struct*> out;
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return out;
  for (const auto& v : it->second.list_value().values())
    if (v.has_struct_value()) out.push_back(&v.struct_value());
  return out;
}

std::string BlobRel(const Digest& d) { return "blobs/sha256/" + d.hash(); }

// A small blob's bytes, verified against its descriptor.
absl::StatusOr<std::string> ReadJsonBlob(const project::SourceTree& tree,
                                         const Digest& d,
                                         const std::string& what, int64_t max) {
  if (d.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " sha256:", d.hash(), ": ", d.size(),
                     " bytes, more than the limit of ", max));
  }
  absl::StatusOr<std::string> bytes = tree.ReadFile(BlobRel(d), max);
  if (bytes.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat(what, " sha256:", d.hash(),
                                            " is missing from ", tree.label()));
  }
  if (!bytes.ok()) return bytes.status();
  Digest got = Digest::Of(*bytes);
  if (got != d) {
    return absl::DataLossError(absl::StrCat(
        what, " blob sha256:", d.hash(), " (", d.size(),
        " bytes) does not match its digest: the file holds sha256:", got.hash(),
        " (", got.size(), " bytes)"));
  }
  return bytes;
}

// Hashes a layer file and, for gzip layers, its uncompressed stream.
absl::Status VerifyLayer(const project::SourceTree& tree, OciImageLayer& layer,
                         bool gzip, const Digest& want_diff_id,
                         const std::string& what) {
  Sha256 blob_sha, diff_sha;
  int64_t size = 0;
  z_stream z{};
  if (gzip && inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    return absl::InternalError("zlib");
  std::vector<unsigned char> out(1 << 20);
  bool stream_end = false, too_long = false;
  const absl::Status kStop = absl::CancelledError("stop");
  absl::Status status = tree.StreamFile(
      BlobRel(layer.digest), [&](absl::string_view piece) -> absl::Status {
        size += piece.size();
        if (size > layer.digest.size()) {  // more bytes than described
          too_long = true;
          return kStop;
        }
        blob_sha.Update(piece);
        if (!gzip) {
          diff_sha.Update(piece);
          return absl::OkStatus();
        }
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
        z.avail_in = static_cast<uInt>(piece.size());
        while (z.avail_in > 0 && !stream_end) {
          z.next_out = out.data();
          z.avail_out = static_cast<uInt>(out.size());
          int r = inflate(&z, Z_NO_FLUSH);
          if (r != Z_OK && r != Z_STREAM_END) {
            return absl::DataLossError(absl::StrCat(
                what, " sha256:", layer.digest.hash(), " is not valid gzip"));
          }
          diff_sha.Update(absl::string_view(reinterpret_cast<char*>(out.data()),
                                            out.size() - z.avail_out));
          if (r == Z_STREAM_END) stream_end = true;
        }
        return absl::OkStatus();
      });
  if (gzip) inflateEnd(&z);
  if (status.code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat(what,
                                            " sha256:", layer.digest.hash(),
                                            " is missing from ", tree.label()));
  }
  if (!status.ok() && !too_long) return status;
  std::string blob_hash = blob_sha.FinishHex();
  if (too_long || size != layer.digest.size() ||
      blob_hash != layer.digest.hash()) {
    return absl::DataLossError(
        absl::StrCat(what, " blob sha256:", layer.digest.hash(), " (",
                     layer.digest.size(), " bytes) does not match its digest"));
  }
  if (gzip && !stream_end) {
    return absl::DataLossError(absl::StrCat(
        what, " sha256:", layer.digest.hash(), " is a truncated gzip stream"));
  }
  std::string diff_hash = diff_sha.FinishHex();
  if (diff_hash != want_diff_id.hash()) {
    return absl::DataLossError(absl::StrCat(
        what, " sha256:", layer.digest.hash(),
        ": its uncompressed tar is sha256:", diff_hash,
        ", not the config's diff_id sha256:", want_diff_id.hash()));
  }
  layer.diff_id = want_diff_id;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Digest> ParseDescriptorDigest(const std::string& digest,
                                             int64_t size,
                                             const std::string& what) {
  static const std::regex kDigest("sha256:[0-9a-f]{64}");
  if (!std::regex_match(digest, kDigest)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": digest '", digest.substr(0, 100),
                     "' is not sha256: followed by 64 lowercase hex digits"));
  }
  if (size < 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": negative size"));
  }
  return Digest::Create(digest.substr(7), size);
}

absl::StatusOr<Digest> ParseDescriptor(const Struct& desc,
                                       const std::string& what) {
  auto size = desc.fields().find("size");
  double n = size == desc.fields().end() ? -1 : size->second.number_value();
  if (n < 0 || n > 9.0e15 ||
      n != static_cast<double>(static_cast<int64_t>(n))) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": descriptor without a valid size"));
  }
  return ParseDescriptorDigest(Str(desc, "digest"), static_cast<int64_t>(n),
                               what);
}

absl::StatusOr<ManifestBlobs> ParseManifestBlobs(const Struct& manifest,
                                                 const std::string& what,
                                                 int max_layers) {
  const Struct* config = Obj(manifest, "config");
  if (config == nullptr)
    return absl::InvalidArgumentError(absl::StrCat(what, " has no config"));
  ManifestBlobs out;
  ASSIGN_OR_RETURN(out.config, ParseDescriptor(*config, what + " config"));
  auto layers = manifest.fields().find("layers");
  if (layers == manifest.fields().end()) return out;
  if (layers->second.list_value().values_size() > max_layers) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": more than ", max_layers, " layers"));
  }
  int i = 0;
  for (const auto& v : layers->second.list_value().values()) {
    const std::string layer = absl::StrCat(what, " layer ", i++);
    if (!v.has_struct_value())
      return absl::InvalidArgumentError(layer + " is not an object");
    ASSIGN_OR_RETURN(Digest d, ParseDescriptor(v.struct_value(), layer));
    out.layers.push_back(d);
  }
  return out;
}

OciLayoutSpec ParseOciLayoutSpec(const std::string& spec) {
  OciLayoutSpec out;
  out.dir = absl::StartsWith(spec, "oci:") ? spec.substr(4) : spec;
  size_t colon = out.dir.find(':');
  if (colon != std::string::npos) {
    out.ref = out.dir.substr(colon + 1);
    out.dir.resize(colon);
  }
  return out;
}

absl::StatusOr<OciImage> ReadOciImage(const std::string& dir,
                                      const std::string& ref,
                                      const OciReadOptions& options) {
  ASSIGN_OR_RETURN(OciImage image,
                   ReadOciImage(project::DirSourceTree(dir), ref, options));
  for (OciImageLayer& layer : image.layers) {
    layer.path = dir + "/" + BlobRel(layer.digest);
    // Unverified layers (a push) are at least the size described.
    struct stat st;
    if (!options.verify_layers &&
        (lstat(layer.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
         st.st_size != layer.digest.size())) {
      return absl::DataLossError(absl::StrCat("layer blob ", layer.path,
                                              " is not a regular file of ",
                                              layer.digest.size(), " bytes"));
    }
  }
  return image;
}

absl::StatusOr<OciImage> ReadOciImage(const project::SourceTree& tree,
                                      const std::string& ref,
                                      const OciReadOptions& options) {
  const std::string& dir = tree.label();
  absl::StatusOr<std::string> index_text =
      tree.ReadFile("index.json", options.max_json_bytes);
  if (index_text.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat(dir, " is not an OCI layout (no index.json)"));
  }
  if (!index_text.ok()) return index_text.status();
  ASSIGN_OR_RETURN(Struct index,
                   ParseJsonStruct(*index_text, dir + "/index.json"));
  // The images: an artifact that refers to one (an SBOM, a provenance
  // statement: an entry with an artifactType) is not an image to pick.
  std::vector<const Struct*> manifests;
  for (const Struct* m : List(index, "manifests")) {
    if (Str(*m, "artifactType").empty()) manifests.push_back(m);
  }
  const Struct* chosen = nullptr;
  std::vector<std::string> refs;
  for (const Struct* m : manifests) {
    std::string r;
    if (const Struct* ann = Obj(*m, "annotations"))
      r = Str(*ann, "org.opencontainers.image.ref.name");
    refs.push_back(r);
    if ((ref.empty() && manifests.size() == 1) || (!ref.empty() && r == ref))
      chosen = m;
  }
  if (chosen == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no image ", ref.empty() ? "(give :REF)" : "'" + ref + "'",
                     " in ", dir, " (refs: ", absl::StrJoin(refs, ", "), ")"));
  }
  // An image whose descriptor names its platform must be the wanted one.
  auto platform_of = [](const Struct& descriptor) -> std::string {
    const Struct* p = Obj(descriptor, "platform");
    if (p == nullptr) return "";
    return Str(*p, "os") + "/" + Str(*p, "architecture");
  };
  const std::string wanted = options.os + "/" + options.architecture;
  if (std::string p = platform_of(*chosen);
      !p.empty() && p != wanted && !options.any_platform) {
    return absl::NotFoundError(
        absl::StrCat("the image in ", dir, " is for ", p, ", not ", wanted));
  }
  // Down through nested indexes to the manifest of the wanted platform.
  Struct manifest;
  Digest manifest_digest = Digest::Empty();
  std::string manifest_bytes, manifest_media;
  Struct holder;  // the descriptor chosen in an index, copied out of it
  for (int depth = 0;; ++depth) {
    if (depth > 4) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir, ": indexes nested more than 4 deep"));
    }
    ASSIGN_OR_RETURN(Digest d, ParseDescriptor(*chosen, "manifest"));
    ASSIGN_OR_RETURN(std::string bytes,
                     ReadJsonBlob(tree, d, "manifest", options.max_json_bytes));
    ASSIGN_OR_RETURN(Struct doc,
                     ParseJsonStruct(bytes, "manifest sha256:" + d.hash()));
    std::string media = Str(doc, "mediaType");
    if (media.empty()) media = Str(*chosen, "mediaType");
    bool is_index = media == kOciIndex || media == kDockerList ||
                    (media.empty() && doc.fields().count("manifests") != 0);
    if (!is_index) {
      manifest = std::move(doc);
      manifest_digest = d;
      manifest_bytes = std::move(bytes);
      manifest_media = media.empty() ? kOciManifest : media;
      break;
    }
    const Struct* next = nullptr;
    std::vector<std::string> platforms;
    for (const Struct* m : List(doc, "manifests")) {
      std::string p = platform_of(*m);
      platforms.push_back(p.empty() ? "unspecified" : p);
      if (next == nullptr && p == wanted) next = m;
    }
    if (next == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "index sha256:", d.hash(), " has no manifest for ", wanted,
          " (platforms: ", absl::StrJoin(platforms, ", "), ")"));
    }
    holder = Struct(*next);
    chosen = &holder;
  }
  OciImage image;
  image.manifest = manifest_digest;
  image.manifest_json = std::move(manifest_bytes);
  image.manifest_media_type = std::move(manifest_media);
  const Struct* config_desc = Obj(manifest, "config");
  if (config_desc == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "manifest sha256:", manifest_digest.hash(), " has no config"));
  }
  ASSIGN_OR_RETURN(Digest config_digest,
                   ParseDescriptor(*config_desc, "config"));
  image.config = config_digest;
  ASSIGN_OR_RETURN(
      image.config_json,
      ReadJsonBlob(tree, config_digest, "config", options.max_json_bytes));
  ASSIGN_OR_RETURN(Struct config,
                   ParseJsonStruct(image.config_json,
                                   "config sha256:" + config_digest.hash()));
  // The config says what the image runs on; a mislabelled index does not
  // make an arm64 image an amd64 base.
  std::string config_platform =
      Str(config, "os") + "/" + Str(config, "architecture");
  if (config_platform != wanted && !options.any_platform) {
    return absl::InvalidArgumentError(
        absl::StrCat("config sha256:", config_digest.hash(), " is for ",
                     config_platform, ", not ", wanted));
  }
  std::vector<std::string> diff_ids;
  if (const Struct* rootfs = Obj(config, "rootfs")) {
    auto it = rootfs->fields().find("diff_ids");
    if (it != rootfs->fields().end()) {
      for (const auto& v : it->second.list_value().values())
        diff_ids.push_back(v.string_value());
    }
  }
  std::vector<const Struct*> layers = List(manifest, "layers");
  if (layers.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "manifest sha256:", manifest_digest.hash(), " has no layers"));
  }
  if (layers.size() != diff_ids.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config sha256:", config_digest.hash(), " lists ", diff_ids.size(),
        " diff_ids for ", layers.size(), " layers"));
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string what = absl::StrCat("layer ", i);
    OciImageLayer layer;
    ASSIGN_OR_RETURN(layer.digest, ParseDescriptor(*layers[i], what));
    if (layer.digest.size() > options.max_layer_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " sha256:", layer.digest.hash(), ": ", layer.digest.size(),
          " bytes, more than the limit of ", options.max_layer_bytes));
    }
    ASSIGN_OR_RETURN(
        Digest diff_id,
        ParseDescriptorDigest(diff_ids[i], 0, "diff_id " + std::to_string(i)));
    layer.media_type = Str(*layers[i], "mediaType");
    bool gzip = absl::EndsWith(layer.media_type, "tar+gzip") ||
                absl::EndsWith(layer.media_type, "tar.gzip");
    bool tar = absl::EndsWith(layer.media_type, "image.layer.v1.tar") ||
               absl::EndsWith(layer.media_type, "rootfs.diff.tar");
    if (!gzip && !tar) {
      return absl::UnimplementedError(absl::StrCat(
          what, " sha256:", layer.digest.hash(), ": media type '",
          layer.media_type, "' is not supported (tar or tar+gzip)"));
    }
    if (options.verify_layers) {
      RETURN_IF_ERROR(VerifyLayer(tree, layer, gzip, diff_id, what));
    } else {
      if (!tree.IsFile(BlobRel(layer.digest))) {
        return absl::NotFoundError(absl::StrCat(
            what, " sha256:", layer.digest.hash(), " is missing from ", dir));
      }
      layer.diff_id = diff_id;  // as the config says, unverified
    }
    image.layers.push_back(std::move(layer));
  }
  return image;
}

}  // namespace pbrx::common::oci
