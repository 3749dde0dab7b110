#include "common/oci/verified_image.h"

#include "absl/strings/str_cat.h"
#include "common/json_struct.h"
#include "common/json_writer.h"
#include "common/status_macros.h"

namespace pbrx::common::oci {
namespace {

void WriteDigest(JsonWriter& w, const Digest& d) {
  w.BeginObject();
  w.Key("digest").String("sha256:" + d.hash());
  w.Key("size").Int(d.size());
  w.EndObject();
}

constexpr int kMaxLayers = 1000;

}  // namespace

std::string VerifiedImageJson(const OciImage& image) {
  JsonWriter w;
  w.BeginObject();
  w.Key("manifest");
  WriteDigest(w, image.manifest);
  w.Key("manifest_media_type").String(image.manifest_media_type);
  w.Key("config");
  WriteDigest(w, image.config);
  w.Key("layers").BeginArray();
  for (const OciImageLayer& l : image.layers) {
    w.BeginObject();
    w.Key("digest").String("sha256:" + l.digest.hash());
    w.Key("size").Int(l.digest.size());
    w.Key("media_type").String(l.media_type);
    w.Key("diff_id").String("sha256:" + l.diff_id.hash());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.str();
}

absl::StatusOr<OciImage> ParseVerifiedImageJson(const std::string& text,
                                                const std::string& what) {
  if (static_cast<int64_t>(text.size()) > kMaxVerifiedImageBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": ", text.size(), " bytes, more than ", kMaxVerifiedImageBytes));
  }
  ASSIGN_OR_RETURN(google::protobuf::Struct doc, ParseJsonStruct(text, what));
  OciImage image;
  const google::protobuf::Struct* m = Obj(doc, "manifest");
  const google::protobuf::Struct* c = Obj(doc, "config");
  if (m == nullptr || c == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": no manifest or config"));
  }
  ASSIGN_OR_RETURN(image.manifest, ParseDescriptor(*m, what + " manifest"));
  ASSIGN_OR_RETURN(image.config, ParseDescriptor(*c, what + " config"));
  image.manifest_media_type = Str(doc, "manifest_media_type");
  auto layers = doc.fields().find("layers");
  if (layers == doc.fields().end() ||
      layers->second.list_value().values_size() == 0 ||
      layers->second.list_value().values_size() > kMaxLayers) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": from 1 to ", kMaxLayers, " layers expected"));
  }
  int i = 0;
  for (const auto& v : layers->second.list_value().values()) {
    const std::string field = absl::StrCat(what, " layer ", i++);
    OciImageLayer l;
    ASSIGN_OR_RETURN(l.digest, ParseDescriptor(v.struct_value(), field));
    ASSIGN_OR_RETURN(l.diff_id,
                     ParseDescriptorDigest(Str(v.struct_value(), "diff_id"), 0,
                                           field + " diff_id"));
    l.media_type = Str(v.struct_value(), "media_type");
    image.layers.push_back(std::move(l));
  }
  return image;
}

}  // namespace pbrx::common::oci
