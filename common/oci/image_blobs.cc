#include "common/oci/image_blobs.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace pbrx::common::oci {

std::string DigestString(const Digest& d) {
  return absl::StrCat("sha256:", d.hash());
}

void WriteDescriptor(JsonWriter& w, const char* media_type, const Digest& d) {
  w.BeginObject()
      .Key("mediaType")
      .String(media_type)
      .Key("digest")
      .String(DigestString(d))
      .Key("size")
      .Int(d.size())
      .EndObject();
}

ImageBlobs MakeImageBlobs(const std::vector<Layer>& layers,
                          const ImageConfig& config) {
  ImageBlobs blobs;
  JsonWriter c(/*pretty=*/false);
  c.BeginObject();
  c.Key("created").String(absl::FormatTime(
      "%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(config.created),
      absl::UTCTimeZone()));
  c.Key("architecture").String(config.architecture);
  c.Key("os").String(config.os);
  if (!config.variant.empty()) c.Key("variant").String(config.variant);
  c.Key("config").BeginObject();
  if (!config.user.empty()) c.Key("User").String(config.user);
  if (!config.env.empty()) c.Key("Env").StringArray(config.env);
  if (!config.entrypoint.empty())
    c.Key("Entrypoint").StringArray(config.entrypoint);
  if (!config.cmd.empty()) c.Key("Cmd").StringArray(config.cmd);
  if (!config.working_dir.empty())
    c.Key("WorkingDir").String(config.working_dir);
  if (!config.labels.empty()) {
    c.Key("Labels").BeginObject();
    for (const auto& [k, v] : config.labels) c.Key(k).String(v);
    c.EndObject();
  }
  c.EndObject();
  c.Key("rootfs")
      .BeginObject()
      .Key("type")
      .String("layers")
      .Key("diff_ids")
      .BeginArray();
  for (const Layer& l : layers) c.String(DigestString(l.diff_id));
  c.EndArray().EndObject();
  c.EndObject();
  blobs.config = c.str();
  blobs.descriptor.config = Digest::Of(blobs.config);

  JsonWriter m(/*pretty=*/false);
  m.BeginObject();
  m.Key("schemaVersion").Int(2);
  m.Key("mediaType").String(kManifestMediaType);
  m.Key("config");
  WriteDescriptor(m, kConfigMediaType, blobs.descriptor.config);
  m.Key("layers").BeginArray();
  for (const Layer& l : layers)
    WriteDescriptor(m, l.media_type.c_str(), l.digest);
  m.EndArray();
  if (!config.annotations.empty()) {
    m.Key("annotations").BeginObject();
    for (const auto& [k, v] : config.annotations) m.Key(k).String(v);
    m.EndObject();
  }
  m.EndObject();
  blobs.manifest = m.str();
  blobs.descriptor.manifest = Digest::Of(blobs.manifest);
  blobs.descriptor.size =
      blobs.descriptor.manifest.size() + blobs.descriptor.config.size();
  for (const Layer& l : layers) blobs.descriptor.size += l.digest.size();
  return blobs;
}

std::string MakeArtifactManifest(const std::string& artifact_type,
                                 const std::string& content_media_type,
                                 const Digest& content, const Digest& subject) {
  JsonWriter m(/*pretty=*/false);
  m.BeginObject();
  m.Key("schemaVersion").Int(2);
  m.Key("mediaType").String(kManifestMediaType);
  m.Key("artifactType").String(artifact_type);
  m.Key("config");
  WriteDescriptor(m, kEmptyMediaType, Digest::Of(kEmptyJson));
  m.Key("layers").BeginArray();
  WriteDescriptor(m, content_media_type.c_str(), content);
  m.EndArray();
  m.Key("subject");
  WriteDescriptor(m, kManifestMediaType, subject);
  m.EndObject();
  return m.str();
}

}  // namespace pbrx::common::oci
