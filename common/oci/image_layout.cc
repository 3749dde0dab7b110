#include "common/oci/image_layout.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/json_writer.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace pbrx::common::oci {
namespace {

// `v` as JSON with every object's keys sorted: a Struct keeps no order, and
// index.json must come out the same bytes for the same refs. Numbers are
// integers in an index (sizes); others are written as their integer part.
void WriteSorted(const google::protobuf::Value& v, JsonWriter& w) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kStructValue: {
      std::vector<std::string> keys;
      for (const auto& [k, unused] : v.struct_value().fields())
        keys.push_back(k);
      std::sort(keys.begin(), keys.end());
      w.BeginObject();
      for (const std::string& k : keys) {
        w.Key(k);
        WriteSorted(v.struct_value().fields().at(k), w);
      }
      w.EndObject();
      break;
    }
    case google::protobuf::Value::kListValue:
      w.BeginArray();
      for (const auto& e : v.list_value().values()) WriteSorted(e, w);
      w.EndArray();
      break;
    case google::protobuf::Value::kStringValue:
      w.String(v.string_value());
      break;
    case google::protobuf::Value::kNumberValue:
      w.Int(static_cast<int64_t>(v.number_value()));
      break;
    case google::protobuf::Value::kBoolValue:
      w.Bool(v.bool_value());
      break;
    default:
      w.Null();
  }
}

constexpr char kRefAnnotation[] = "org.opencontainers.image.ref.name";

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status MkdirP(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      cur = path.substr(0, i);
      if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
        return Errno("cannot create", cur);
    }
  }
  return absl::OkStatus();
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Writes `content` to `path` through a temporary file and rename.
absl::Status WriteAtomically(const std::string& path,
                             absl::string_view content) {
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = write(fd, content.data() + off, content.size() - off);
    if (n <= 0) {
      close(fd);
      unlink(tmp.c_str());
      return Errno("cannot write", tmp);
    }
    off += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(tmp.c_str());
    return Errno("cannot flush", tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Errno("cannot rename", tmp);
  }
  return absl::OkStatus();
}

// Entries of `dir`/index.json's "manifests".
absl::StatusOr<std::vector<google::protobuf::Value>> ReadIndex(
    const std::string& dir) {
  std::ifstream in(dir + "/index.json");
  std::stringstream ss;
  ss << in.rdbuf();
  google::protobuf::Struct index;
  if (!google::protobuf::util::JsonStringToMessage(ss.str(), &index).ok()) {
    return absl::DataLossError(
        absl::StrCat(dir, "/index.json is not valid JSON"));
  }
  std::vector<google::protobuf::Value> out;
  auto it = index.fields().find("manifests");
  if (it != index.fields().end() && it->second.has_list_value()) {
    for (const auto& v : it->second.list_value().values()) {
      if (v.has_struct_value()) out.push_back(v);
    }
  }
  return out;
}

absl::Status WriteIndex(const std::string& dir,
                        const std::vector<std::string>& entries) {
  return WriteAtomically(
      dir + "/index.json",
      absl::StrCat("{\"schemaVersion\":2,\"mediaType\":\"application/"
                   "vnd.oci.image.index.v1+json\","
                   "\"manifests\":[",
                   absl::StrJoin(entries, ","), "]}"));
}

std::string Sorted(const google::protobuf::Value& v) {
  JsonWriter w(/*pretty=*/false);
  WriteSorted(v, w);
  return w.str();
}

// A string field of an index entry ("" when absent).
std::string Field(const google::protobuf::Value& v, const std::string& key) {
  auto it = v.struct_value().fields().find(key);
  return it == v.struct_value().fields().end() ? "" : it->second.string_value();
}

// The ref an index entry names ("" when none).
std::string RefOf(const google::protobuf::Value& v) {
  auto ann = v.struct_value().fields().find("annotations");
  if (ann == v.struct_value().fields().end() || !ann->second.has_struct_value())
    return "";
  auto r = ann->second.struct_value().fields().find(kRefAnnotation);
  return r == ann->second.struct_value().fields().end()
             ? ""
             : r->second.string_value();
}

// The artifact manifest `digest` ("sha256:...") in the layout `dir`, read
// once (capped), with its subject; NOT_FOUND when it has none or is unreadable.
struct ArtifactManifest {
  std::string subject;  // "sha256:..."
  std::string bytes;
};
absl::StatusOr<ArtifactManifest> ReadArtifact(const std::string& dir,
                                              const std::string& digest) {
  constexpr size_t kMaxManifest = 4 << 20;
  if (digest.size() != 71 || !absl::StartsWith(digest, "sha256:") ||
      digest.find_first_not_of("0123456789abcdef", 7) != std::string::npos) {
    return absl::NotFoundError("not a sha256 digest");
  }
  std::ifstream in(absl::StrCat(dir, "/blobs/sha256/", digest.substr(7)),
                   std::ios::binary);
  std::string bytes(kMaxManifest + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  google::protobuf::Struct m;
  if (bytes.empty() || bytes.size() > kMaxManifest ||
      !google::protobuf::util::JsonStringToMessage(bytes, &m).ok()) {
    return absl::NotFoundError("no manifest");
  }
  auto it = m.fields().find("subject");
  if (it == m.fields().end() || !it->second.has_struct_value())
    return absl::NotFoundError("no subject");
  std::string subject = Field(it->second, "digest");
  if (subject.empty()) return absl::NotFoundError("no subject");
  return ArtifactManifest{std::move(subject), std::move(bytes)};
}

}  // namespace

std::string OciLayout::BlobPath(const Digest& d) const {
  return absl::StrCat(dir_, "/blobs/sha256/", d.hash());
}

absl::StatusOr<OciLayout> OciLayout::Open(const std::string& dir) {
  OciLayout layout(dir);
  std::string marker = dir + "/oci-layout";
  if (Exists(dir) && !Exists(marker)) {
    // An empty directory may become a layout; anything else is refused.
    bool empty = true;
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") empty = false;
      }
      closedir(d);
    }
    if (!empty) {
      return absl::FailedPreconditionError(absl::StrCat(
          dir, " exists and is not an OCI image layout (no oci-layout file)"));
    }
  }
  RETURN_IF_ERROR(MkdirP(dir + "/blobs/sha256"));
  if (!Exists(marker)) {
    RETURN_IF_ERROR(
        WriteAtomically(marker, "{\"imageLayoutVersion\":\"1.0.0\"}"));
  }
  if (!Exists(dir + "/index.json")) {
    RETURN_IF_ERROR(
        WriteAtomically(dir + "/index.json",
                        "{\"schemaVersion\":2,\"mediaType\":\"application/"
                        "vnd.oci.image.index.v1+json\","
                        "\"manifests\":[]}"));
  }
  return layout;
}

absl::Status OciLayout::AddBlobFile(const std::string& path,
                                    const Digest& digest) {
  std::string dest = BlobPath(digest);
  if (Exists(dest)) return absl::OkStatus();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Errno("cannot open", path);
  std::string tmp = absl::StrCat(dest, ".tmp.", getpid());
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  Sha256 sha;
  int64_t size = 0;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    sha.Update(absl::string_view(buf.data(), static_cast<size_t>(n)));
    size += n;
    out.write(buf.data(), n);
  }
  out.close();
  if (!out || sha.FinishHex() != digest.hash() || size != digest.size()) {
    unlink(tmp.c_str());
    return absl::DataLossError(
        absl::StrCat(path, " does not match ", digest.ToString()));
  }
  if (rename(tmp.c_str(), dest.c_str()) != 0)
    return Errno("cannot rename", tmp);
  return absl::OkStatus();
}

absl::StatusOr<Digest> OciLayout::AddBlob(absl::string_view bytes) {
  Digest d = Digest::Of(bytes);
  if (!Exists(BlobPath(d)))
    RETURN_IF_ERROR(WriteAtomically(BlobPath(d), bytes));
  return d;
}

absl::Status OciLayout::Tag(const Digest& manifest_digest,
                            const std::vector<std::string>& refs) {
  if (!Exists(BlobPath(manifest_digest))) {
    return absl::FailedPreconditionError(absl::StrCat(
        "manifest ", manifest_digest.ToString(), " is not in ", dir_));
  }
  // index.json: keep other refs, replace ours.
  ASSIGN_OR_RETURN(std::vector<google::protobuf::Value> index, ReadIndex(dir_));
  std::vector<std::string> entries;
  for (const google::protobuf::Value& v : index) {
    std::string ref = RefOf(v);
    if (!ref.empty() && std::find(refs.begin(), refs.end(), ref) != refs.end())
      continue;
    entries.push_back(Sorted(v));
  }
  for (const std::string& ref : refs) {
    JsonWriter e(/*pretty=*/false);
    // Keys sorted, as WriteSorted writes the entries kept.
    e.BeginObject()
        .Key("annotations")
        .BeginObject()
        .Key(kRefAnnotation)
        .String(ref)
        .EndObject()
        .Key("digest")
        .String(DigestString(manifest_digest))
        .Key("mediaType")
        .String(kManifestMediaType)
        .Key("size")
        .Int(manifest_digest.size())
        .EndObject();
    entries.push_back(e.str());
  }
  return WriteIndex(dir_, entries);
}

absl::Status OciLayout::AddReferrers(const Digest& subject,
                                     const std::vector<Referrer>& referrers) {
  for (const Referrer& r : referrers) {
    if (!Exists(BlobPath(r.manifest))) {
      return absl::FailedPreconditionError(absl::StrCat(
          "manifest ", r.manifest.ToString(), " is not in ", dir_));
    }
  }
  ASSIGN_OR_RETURN(std::vector<google::protobuf::Value> index, ReadIndex(dir_));
  std::set<std::string> named;  // manifests a ref names
  for (const google::protobuf::Value& v : index) {
    if (!RefOf(v).empty()) named.insert(Field(v, "digest"));
  }
  named.insert(DigestString(subject));
  std::set<std::string> added;
  for (const Referrer& r : referrers) added.insert(DigestString(r.manifest));
  std::vector<std::string> entries;
  for (const google::protobuf::Value& v : index) {
    if (RefOf(v).empty() && !Field(v, "artifactType").empty()) {
      // A referrer: kept while its subject is named and it is not one of
      // those being added.
      std::string digest = Field(v, "digest");
      if (added.count(digest) != 0) continue;
      absl::StatusOr<ArtifactManifest> a = ReadArtifact(dir_, digest);
      if (!a.ok() || named.count(a->subject) == 0) continue;
    }
    entries.push_back(Sorted(v));
  }
  for (const Referrer& r : referrers) {
    JsonWriter e(/*pretty=*/false);
    e.BeginObject()
        .Key("artifactType")
        .String(r.artifact_type)
        .Key("digest")
        .String(DigestString(r.manifest))
        .Key("mediaType")
        .String(kManifestMediaType)
        .Key("size")
        .Int(r.manifest.size())
        .EndObject();
    entries.push_back(e.str());
  }
  return WriteIndex(dir_, entries);
}

absl::StatusOr<std::vector<Referrer>> LayoutReferrers(const std::string& dir,
                                                      const Digest& subject) {
  ASSIGN_OR_RETURN(std::vector<google::protobuf::Value> index, ReadIndex(dir));
  std::vector<Referrer> out;
  for (const google::protobuf::Value& v : index) {
    std::string type = Field(v, "artifactType");
    if (!RefOf(v).empty() || type.empty()) continue;
    std::string digest = Field(v, "digest");
    absl::StatusOr<ArtifactManifest> a = ReadArtifact(dir, digest);
    if (!a.ok() || a->subject != DigestString(subject)) continue;
    const google::protobuf::Value* size = nullptr;
    auto it = v.struct_value().fields().find("size");
    if (it != v.struct_value().fields().end()) size = &it->second;
    absl::StatusOr<Digest> d = Digest::Create(
        digest.substr(7),
        size != nullptr ? static_cast<int64_t>(size->number_value()) : -1);
    if (!d.ok() || Digest::Of(a->bytes) != *d) {
      return absl::DataLossError(
          absl::StrCat(dir, ": referrer ", digest.substr(0, 80),
                       " does not match its descriptor in index.json"));
    }
    out.push_back(Referrer{*d, type, std::move(a->bytes)});
  }
  return out;
}

absl::StatusOr<ImageDescriptor> OciLayout::WriteImage(
    const std::vector<Layer>& layers, const ImageConfig& config,
    const std::vector<std::string>& refs) {
  for (const Layer& l : layers) {
    if (!Exists(BlobPath(l.digest))) {
      return absl::FailedPreconditionError(
          absl::StrCat("layer ", l.digest.ToString(), " is not in ", dir_));
    }
  }
  ImageBlobs blobs = MakeImageBlobs(layers, config);
  RETURN_IF_ERROR(AddBlob(blobs.config).status());
  ASSIGN_OR_RETURN(Digest manifest_digest, AddBlob(blobs.manifest));
  RETURN_IF_ERROR(Tag(manifest_digest, refs));

  return blobs.descriptor;
}

}  // namespace pbrx::common::oci
