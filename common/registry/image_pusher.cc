#include "common/registry/image_pusher.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/json_struct.h"
#include "common/json_writer.h"
#include "common/parallel.h"
#include "common/status_macros.h"

namespace pbrx::common::registry {

void BlobLocations::Add(const Digest& d, const std::string& repo) {
  absl::MutexLock lock(&mu_);
  auto it = std::find(entries_.begin(), entries_.end(),
                      std::make_pair(d.hash(), repo));
  if (it != entries_.end()) entries_.erase(it);
  entries_.emplace_back(d.hash(), repo);
}

std::vector<std::string> BlobLocations::Others(const Digest& d,
                                               const std::string& repo) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->first == d.hash() && it->second != repo) out.push_back(it->second);
  }
  return out;
}

void BlobLocations::Load(const std::string& path, size_t max_entries) {
  static const std::regex kLine(
      "([0-9a-f]{64}) ([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
      "(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)");
  std::ifstream in(path);
  std::string line;
  std::vector<std::pair<std::string, std::string>> loaded;
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.size() <= 320 && std::regex_match(line, m, kLine))
      loaded.emplace_back(m[1], m[2]);
  }
  if (loaded.size() > max_entries)
    loaded.erase(loaded.begin(), loaded.end() - max_entries);
  absl::MutexLock lock(&mu_);
  entries_.insert(entries_.begin(), loaded.begin(), loaded.end());
}

absl::Status BlobLocations::Save(const std::string& path,
                                 size_t max_entries) const {
  std::string text;
  {
    absl::MutexLock lock(&mu_);
    size_t first =
        entries_.size() > max_entries ? entries_.size() - max_entries : 0;
    for (size_t i = first; i < entries_.size(); ++i)
      absl::StrAppend(&text, entries_[i].first, " ", entries_[i].second, "\n");
  }
  // Replaced whole (another process may save the same file).
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return absl::InternalError(absl::StrCat("cannot write ", tmp));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot replace ", path));
  }
  return absl::OkStatus();
}

std::string ReferrersTag(const Digest& subject) {
  return "sha256-" + subject.hash();
}

namespace {

constexpr char kIndexMediaType[] = "application/vnd.oci.image.index.v1+json";

// Writes the descriptor `d` (an index entry) back as it was read: its
// media type, digest, size, artifactType and annotations.
void WriteEntry(const google::protobuf::Struct& d, JsonWriter& w) {
  w.BeginObject();
  w.Key("mediaType").String(Str(d, "mediaType"));
  w.Key("digest").String(Str(d, "digest"));
  auto size = d.fields().find("size");
  w.Key("size").Int(size == d.fields().end()
                        ? 0
                        : static_cast<int64_t>(size->second.number_value()));
  if (!Str(d, "artifactType").empty())
    w.Key("artifactType").String(Str(d, "artifactType"));
  if (const google::protobuf::Struct* a = Obj(d, "annotations")) {
    w.Key("annotations").BeginObject();
    std::map<std::string, std::string> sorted;
    for (const auto& [k, v] : a->fields()) sorted[k] = v.string_value();
    for (const auto& [k, v] : sorted) w.Key(k).String(v);
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

absl::StatusOr<bool> ReferrersListed(
    RegistryClient& client, const std::string& repo, const Digest& subject,
    const std::vector<PushableImage>& referrers) {
  ASSIGN_OR_RETURN(std::optional<std::string> index,
                   client.GetReferrers(repo, subject));
  if (!index.has_value()) {
    absl::StatusOr<FetchedManifest> tagged =
        client.GetManifest(repo, ReferrersTag(subject), {kIndexMediaType});
    if (tagged.status().code() == absl::StatusCode::kNotFound) return false;
    if (!tagged.ok()) return tagged.status();
    index = std::move(tagged->bytes);
  }
  absl::StatusOr<google::protobuf::Struct> parsed =
      ParseJsonStruct(*index, "referrers index");
  if (!parsed.ok()) return false;  // pushed again, listed again
  std::set<std::string> listed;
  auto m = parsed->fields().find("manifests");
  if (m != parsed->fields().end()) {
    for (const auto& v : m->second.list_value().values())
      if (v.has_struct_value()) listed.insert(Str(v.struct_value(), "digest"));
  }
  for (const PushableImage& r : referrers) {
    if (listed.count("sha256:" + Digest::Of(r.manifest).hash()) == 0)
      return false;
  }
  return true;
}

absl::Status AddToReferrersTag(RegistryClient& client, const std::string& repo,
                               const Digest& subject,
                               const std::vector<PushableImage>& referrers) {
  const std::string tag = ReferrersTag(subject);
  std::vector<google::protobuf::Struct> entries;
  absl::StatusOr<FetchedManifest> current =
      client.GetManifest(repo, tag, {kIndexMediaType});
  if (current.ok()) {
    const std::string what = absl::StrCat(client.host(), "/", repo, ":", tag);
    ASSIGN_OR_RETURN(google::protobuf::Struct index,
                     ParseJsonStruct(current->bytes, what));
    auto m = index.fields().find("manifests");
    if (m != index.fields().end()) {
      for (const auto& v : m->second.list_value().values()) {
        if (v.has_struct_value()) entries.push_back(v.struct_value());
      }
    }
  } else if (current.status().code() != absl::StatusCode::kNotFound) {
    return current.status();
  }
  bool changed = false;
  for (const PushableImage& r : referrers) {
    const std::string digest = "sha256:" + Digest::Of(r.manifest).hash();
    if (std::any_of(entries.begin(), entries.end(),
                    [&](const auto& e) { return Str(e, "digest") == digest; }))
      continue;
    google::protobuf::Struct e;
    (*e.mutable_fields())["mediaType"].set_string_value(r.media_type);
    (*e.mutable_fields())["digest"].set_string_value(digest);
    (*e.mutable_fields())["size"].set_number_value(
        static_cast<double>(r.manifest.size()));
    (*e.mutable_fields())["artifactType"].set_string_value(r.artifact_type);
    entries.push_back(std::move(e));
    changed = true;
  }
  if (!changed) return absl::OkStatus();
  JsonWriter w(/*pretty=*/false);
  w.BeginObject();
  w.Key("schemaVersion").Int(2);
  w.Key("mediaType").String(kIndexMediaType);
  w.Key("manifests").BeginArray();
  for (const auto& e : entries) WriteEntry(e, w);
  w.EndArray();
  w.EndObject();
  return client.PutManifest(repo, tag, kIndexMediaType, w.str()).status();
}

absl::StatusOr<PushStats> PushImage(RegistryClient& client,
                                    const std::string& repo,
                                    const std::vector<std::string>& tags,
                                    const PushableImage& image,
                                    BlobSourceProvider& blobs,
                                    BlobLocations& locations,
                                    const PushImageOptions& options) {
  const Digest subject = Digest::Of(image.manifest);
  // Already there (every tag names this manifest, a second push of the same
  // images): nothing to send for the image, no blob to check. Only a
  // shortcut: when the registry cannot say, the image is pushed as usual
  // (whose errors name the blob).
  bool present = !tags.empty();
  for (const std::string& tag : tags) {
    absl::StatusOr<std::optional<Digest>> there =
        client.HeadManifest(repo, tag, {image.media_type});
    if (!there.ok() || !there->has_value() ||
        (*there)->hash() != subject.hash()) {
      present = false;
      break;
    }
  }
  bool referrers_listed = image.referrers.empty();
  if (present && !referrers_listed) {
    absl::StatusOr<bool> listed =
        ReferrersListed(client, repo, subject, image.referrers);
    referrers_listed = listed.ok() && *listed;
  }
  // Each distinct blob once (an image may repeat a layer), the referrers'
  // with them.
  std::vector<Digest> todo;
  auto add = [&](const std::vector<Digest>& blobs) {
    for (const Digest& d : blobs)
      if (std::find(todo.begin(), todo.end(), d) == todo.end())
        todo.push_back(d);
  };
  if (!present) add(image.blobs);
  if (!referrers_listed)
    for (const PushableImage& r : image.referrers) add(r.blobs);
  std::atomic<size_t> next{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int> uploaded{0}, mounted{0}, skipped{0};
  std::atomic<bool> failed{false};
  auto push_blob = [&](const Digest& d) -> absl::Status {
    ASSIGN_OR_RETURN(bool exists, client.BlobExists(repo, d));
    if (exists) {
      ++skipped;
      locations.Add(d, repo);
      return absl::OkStatus();
    }
    for (const std::string& from : locations.Others(d, repo)) {
      ASSIGN_OR_RETURN(bool ok, client.MountBlob(repo, d, from));
      if (ok) {
        ++mounted;
        locations.Add(d, repo);
        return absl::OkStatus();
      }
    }
    ASSIGN_OR_RETURN(BlobSource source, blobs.Open(d));
    RETURN_IF_ERROR(client.UploadBlob(repo, d, source));
    ++uploaded;
    bytes += d.size();
    locations.Add(d, repo);
    return absl::OkStatus();
  };
  size_t workers = std::min<size_t>(std::max(1, options.parallel), todo.size());
  RETURN_IF_ERROR(common::ParallelFor(workers, [&](size_t) -> absl::Status {
    for (size_t i = next++; i < todo.size() && !failed; i = next++) {
      absl::Status s = push_blob(todo[i]);
      if (!s.ok()) {
        failed = true;
        return s;
      }
    }
    return absl::OkStatus();
  }));
  PushStats stats;
  stats.manifest = subject;
  if (!present) {
    for (const std::string& tag : tags) {
      ASSIGN_OR_RETURN(
          stats.manifest,
          client.PutManifest(repo, tag, image.media_type, image.manifest));
    }
  }
  stats.bytes_uploaded = bytes;
  stats.blobs_uploaded = uploaded;
  stats.blobs_mounted = mounted;
  // The blobs of an image found whole count as there.
  stats.blobs_skipped =
      skipped + (present ? static_cast<int>(image.blobs.size()) : 0);
  stats.already_there = present;
  if (referrers_listed) return stats;
  bool api = true;
  for (const PushableImage& r : image.referrers) {
    std::string answered;
    ASSIGN_OR_RETURN(
        Digest d,
        client.PutManifest(repo, "sha256:" + Digest::Of(r.manifest).hash(),
                           r.media_type, r.manifest, &answered));
    (void)d;
    if (answered != "sha256:" + subject.hash()) api = false;
    ++stats.referrers;
  }
  if (!api) {
    RETURN_IF_ERROR(AddToReferrersTag(client, repo, subject, image.referrers));
    stats.referrers_tag = true;
  }
  return stats;
}

}  // namespace pbrx::common::registry
