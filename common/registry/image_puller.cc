#include "common/registry/image_puller.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json_struct.h"
#include "common/json_writer.h"
#include "common/oci/layout_reader.h"
#include "common/status_macros.h"
#include "google/protobuf/struct.pb.h"

namespace pbrx::common::registry {
namespace {

using google::protobuf::Struct;

constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
constexpr char kDockerList[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kDockerManifest[] =
    "application/vnd.docker.distribution.manifest.v2+json";

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

absl::Status WriteFile(const std::string& path, const std::string& bytes) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.close();
    if (!out) return absl::InternalError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return absl::InternalError("cannot rename " + tmp);
  return absl::OkStatus();
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::InternalError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> ManifestAcceptTypes() {
  return {kOciIndex, kDockerList, kOciManifest, kDockerManifest};
}

absl::StatusOr<PulledImage> PullImage(RegistryClient& client,
                                      const std::string& repo,
                                      const std::string& reference,
                                      const PullOptions& options,
                                      const std::string& layout_dir) {
  const std::string name = absl::StrCat(client.host(), "/", repo);
  ASSIGN_OR_RETURN(FetchedManifest top,
                   client.GetManifest(repo, reference, ManifestAcceptTypes()));
  PulledImage pulled;
  pulled.resolved = top.digest;
  ASSIGN_OR_RETURN(Struct doc,
                   ParseJsonStruct(top.bytes, "manifest of " + name));
  std::string media = top.media_type;
  if (!Str(doc, "mediaType").empty()) media = Str(doc, "mediaType");
  FetchedManifest image = top;
  if (media == kOciIndex || media == kDockerList ||
      (media.empty() && doc.fields().count("manifests") != 0)) {
    const std::string wanted =
        absl::StrCat(options.os, "/", options.architecture,
                     options.variant.empty() ? "" : "/" + options.variant);
    std::vector<std::string> offered;
    const Struct* chosen = nullptr;
    auto it = doc.fields().find("manifests");
    if (it != doc.fields().end()) {
      for (const auto& v : it->second.list_value().values()) {
        if (!v.has_struct_value()) continue;
        const Struct* p = Obj(v.struct_value(), "platform");
        if (p == nullptr) continue;
        std::string variant = Str(*p, "variant");
        offered.push_back(absl::StrCat(Str(*p, "os"), "/",
                                       Str(*p, "architecture"),
                                       variant.empty() ? "" : "/" + variant));
        if (chosen == nullptr && Str(*p, "os") == options.os &&
            Str(*p, "architecture") == options.architecture &&
            (options.variant.empty() || variant == options.variant)) {
          chosen = &v.struct_value();
        }
      }
    }
    if (chosen == nullptr) {
      return absl::NotFoundError(
          absl::StrCat(name, ":", reference, " has no image for ", wanted,
                       " (platforms: ", absl::StrJoin(offered, ", "), ")"));
    }
    ASSIGN_OR_RETURN(Digest d,
                     oci::ParseDescriptor(
                         *chosen, "the " + wanted + " manifest of " + name));
    ASSIGN_OR_RETURN(image, client.GetManifest(repo, "sha256:" + d.hash(),
                                               ManifestAcceptTypes()));
    ASSIGN_OR_RETURN(
        doc, ParseJsonStruct(image.bytes, "manifest sha256:" + d.hash()));
    media = Str(doc, "mediaType").empty() ? image.media_type
                                          : Str(doc, "mediaType");
  }
  if (media.empty()) media = kOciManifest;
  if (media != kOciManifest && media != kDockerManifest) {
    return absl::UnimplementedError(absl::StrCat(
        name, ":", reference, ": manifest media type '", media.substr(0, 100),
        "' is not an image manifest pbrx reads"));
  }
  pulled.manifest = image.digest;
  pulled.media_type = media;
  // The blobs: the config, then the layers.
  ASSIGN_OR_RETURN(
      oci::ManifestBlobs named,
      oci::ParseManifestBlobs(
          doc,
          absl::StrCat("manifest sha256:", image.digest.hash(), " of ", name),
          options.max_layers));
  std::vector<Digest> blobs = {named.config};
  blobs.insert(blobs.end(), named.layers.begin(), named.layers.end());
  const std::string blob_dir = layout_dir + "/blobs/sha256";
  RETURN_IF_ERROR(MakeDir(layout_dir));
  RETURN_IF_ERROR(MakeDir(layout_dir + "/blobs"));
  RETURN_IF_ERROR(MakeDir(blob_dir));
  for (const Digest& d : blobs) {
    if (d.size() > options.max_blob_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": blob sha256:", d.hash(), " is ", d.size(),
          " bytes, more than the limit of ", options.max_blob_bytes));
    }
    const std::string path = blob_dir + "/" + d.hash();
    if (Exists(path)) continue;
    const std::string tmp = absl::StrCat(path, ".part.", getpid());
    RETURN_IF_ERROR(client.GetBlob(repo, d, tmp));
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      return absl::InternalError("cannot rename " + tmp);
  }
  RETURN_IF_ERROR(WriteFile(blob_dir + "/" + image.digest.hash(), image.bytes));
  RETURN_IF_ERROR(WriteFile(layout_dir + "/oci-layout",
                            R"({"imageLayoutVersion":"1.0.0"})"));
  JsonWriter w(/*pretty=*/false);
  w.BeginObject().Key("schemaVersion").Int(2).Key("manifests").BeginArray();
  w.BeginObject().Key("mediaType").String(media);
  w.Key("digest").String("sha256:" + image.digest.hash());
  w.Key("size").Int(image.digest.size()).EndObject();
  w.EndArray().EndObject();
  RETURN_IF_ERROR(WriteFile(layout_dir + "/index.json", w.str()));
  return pulled;
}

}  // namespace pbrx::common::registry
