#include "client/image_push.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/json_struct.h"
#include "common/oci/image_blobs.h"
#include "common/oci/image_layout.h"
#include "common/oci/layout_reader.h"
#include "common/registry/credential_helper.h"
#include "common/registry/credentials.h"
#include "common/registry/curl_transport.h"
#include "common/registry/image_reference.h"
#include "common/status_macros.h"
#include "common/version.h"

namespace pbrx::client {

namespace reg = common::registry;

const std::vector<std::string>& RegistryFlagNames() {
  static const auto* names = new std::vector<std::string>{
      "insecure-registry", "registry-ca", "push-jobs"};
  return *names;
}

void AddRegistryFlags(common::FlagParser& p, RegistryFlags* flags) {
  p.AddCustom(
      "insecure-registry",
      "a registry reached over plain HTTP (loopback registries always are)",
      [flags](absl::string_view v) -> absl::Status {
        if (v.empty()) return absl::InvalidArgumentError("needs HOST[:PORT]");
        flags->insecure_hosts.push_back(std::string(v));
        return absl::OkStatus();
      },
      /*repeated=*/true);
  p.SetValueName("insecure-registry", "HOST[:PORT]");
  p.AddCustom("registry-ca",
              "a PEM CA bundle trusted for registries, besides the system's",
              [flags](absl::string_view v) -> absl::Status {
                if (v.empty())
                  return absl::InvalidArgumentError("needs a PEM file");
                flags->ca_file = std::string(v);
                return absl::OkStatus();
              });
  p.SetValueName("registry-ca", "FILE");
  p.AddCustom("push-jobs",
              "blobs uploaded at once per image, 1 to 64 (default 4)",
              [flags](absl::string_view v) -> absl::Status {
                int n = 0;
                if (!absl::SimpleAtoi(v, &n) || n < 1 || n > 64) {
                  return absl::InvalidArgumentError(absl::StrCat(
                      "expected a number from 1 to 64, got '", v, "'"));
                }
                flags->parallel = n;
                return absl::OkStatus();
              });
  p.SetValueName("push-jobs", "N");
}

namespace {

// The variables auth files are found by and credential helpers run with.
std::map<std::string, std::string> RegistryEnvironment() {
  std::map<std::string, std::string> env;
  for (const char* k :
       {"REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_CONFIG", "HOME",
        "PATH", "DBUS_SESSION_BUS_ADDRESS"}) {
    if (const char* v = std::getenv(k)) env[k] = v;
  }
  return env;
}

reg::CurlTransportOptions TransportOptions(const RegistryFlags& flags) {
  reg::CurlTransportOptions o;
  o.extra_ca_file = flags.ca_file;
  o.user_agent = absl::StrCat("pbrx/", kVersion);
  return o;
}

reg::RegistryAccessOptions AccessOptions(const RegistryFlags& flags,
                                         reg::CredentialHelper* helpers) {
  reg::RegistryAccessOptions o;
  o.insecure_hosts = flags.insecure_hosts;
  o.auth_files = reg::AuthFilePaths(RegistryEnvironment());
  o.helpers = helpers;
  return o;
}

}  // namespace

LayoutImageSource::LayoutImageSource(std::string dir)
    : dir_(std::move(dir)), blobs_(dir_) {}

absl::StatusOr<reg::BlobSource> LayoutImageSource::Blobs::Open(
    const common::Digest& d) {
  reg::BlobSource s;
  s.path = absl::StrCat(dir_, "/blobs/sha256/", d.hash());
  return s;
}

reg::BlobSourceProvider& LayoutImageSource::blobs() { return blobs_; }

absl::StatusOr<reg::PushableImage> PushableManifest(std::string bytes,
                                                    const std::string& what) {
  ASSIGN_OR_RETURN(google::protobuf::Struct doc,
                   common::ParseJsonStruct(bytes, what));
  reg::PushableImage out;
  out.media_type = common::Str(doc, "mediaType");
  if (out.media_type.empty()) out.media_type = common::oci::kManifestMediaType;
  out.artifact_type = common::Str(doc, "artifactType");
  ASSIGN_OR_RETURN(common::oci::ManifestBlobs blobs,
                   common::oci::ParseManifestBlobs(doc, what));
  out.blobs.push_back(blobs.config);
  out.blobs.insert(out.blobs.end(), blobs.layers.begin(), blobs.layers.end());
  out.manifest = std::move(bytes);
  return out;
}

absl::StatusOr<TagImage> LayoutImageSource::Read(const std::string& ref) {
  common::oci::OciReadOptions ro;
  ro.verify_layers = false;
  ro.any_platform = true;
  ASSIGN_OR_RETURN(common::oci::OciImage read,
                   common::oci::ReadOciImage(dir_, ref, ro));
  TagImage out;
  out.manifest = read.manifest;
  out.content.manifest = std::move(read.manifest_json);
  out.content.media_type = std::move(read.manifest_media_type);
  out.content.blobs.push_back(read.config);
  for (const auto& l : read.layers) out.content.blobs.push_back(l.digest);
  // Its SBOM and provenance, listed in index.json as its referrers.
  ASSIGN_OR_RETURN(std::vector<common::oci::Referrer> referrers,
                   common::oci::LayoutReferrers(dir_, read.manifest));
  for (const common::oci::Referrer& r : referrers) {
    const std::string what = absl::StrCat(
        dir_, ": artifact manifest ", common::oci::DigestString(r.manifest));
    ASSIGN_OR_RETURN(reg::PushableImage artifact,
                     PushableManifest(r.manifest_json, what));
    out.content.referrers.push_back(std::move(artifact));
  }
  return out;
}

absl::StatusOr<std::vector<PushedImage>> PushImageTags(
    reg::RegistryAccess& access, ImageSource& source, const LayoutImage& image,
    const RegistryFlags& flags) {
  ASSIGN_OR_RETURN(reg::ImageReference target,
                   reg::ParseImageReference(image.name));
  if (!target.tag.empty() || !target.digest.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("image name ", image.name, " has a tag or digest"));
  }
  // Tags that point at the same manifest go up together.
  std::vector<PushedImage> groups;
  std::vector<reg::PushableImage> contents;
  for (const std::string& tag : image.tags) {
    const std::string ref = absl::StrCat(image.name, ":", tag);
    absl::StatusOr<TagImage> read = source.Read(ref);
    if (!read.ok()) {
      return absl::Status(
          read.status().code(),
          absl::StrCat("pushing ", ref, ": ", read.status().message()));
    }
    size_t g = 0;
    while (g < groups.size() && groups[g].manifest != read->manifest) ++g;
    if (g == groups.size()) {
      PushedImage p;
      p.name = image.name;
      p.manifest = read->manifest;
      groups.push_back(p);
      contents.push_back(std::move(read->content));
    }
    groups[g].tags.push_back(tag);
  }
  ASSIGN_OR_RETURN(reg::RegistryClient * client,
                   access.Client(target.registry));
  for (size_t g = 0; g < groups.size(); ++g) {
    absl::StatusOr<reg::PushStats> stats =
        reg::PushImage(*client, target.repository, groups[g].tags, contents[g],
                       source.blobs(), access.Locations(target.registry),
                       reg::PushImageOptions{flags.parallel});
    if (!stats.ok()) {
      return absl::Status(
          stats.status().code(),
          absl::StrCat("pushing ", image.name, ":", groups[g].tags[0], ": ",
                       stats.status().message()));
    }
    groups[g].stats = *stats;
  }
  return groups;
}

void PrintPushed(const std::vector<PushedImage>& pushed, std::ostream& out) {
  for (const PushedImage& p : pushed) {
    for (const std::string& t : p.tags) {
      out << p.name << ":" << t << "@" << common::oci::DigestString(p.manifest)
          << "\n";
    }
  }
}

void WritePushedJson(const std::vector<PushedImage>& pushed,
                     common::JsonWriter& w) {
  w.BeginArray();
  for (const PushedImage& p : pushed) {
    w.BeginObject();
    w.Key("name").String(p.name);
    w.Key("tags").StringArray(p.tags);
    w.Key("digest").String(common::oci::DigestString(p.manifest));
    std::vector<std::string> refs;
    for (const std::string& t : p.tags) {
      refs.push_back(absl::StrCat(p.name, ":", t, "@",
                                  common::oci::DigestString(p.manifest)));
    }
    w.Key("refs").StringArray(refs);
    w.Key("bytes_uploaded").Int(p.stats.bytes_uploaded);
    w.Key("blobs_uploaded").Int(p.stats.blobs_uploaded);
    w.Key("blobs_mounted").Int(p.stats.blobs_mounted);
    w.Key("blobs_skipped").Int(p.stats.blobs_skipped);
    // Every tag named this image already: nothing of it was sent or checked.
    w.Key("already_there").Bool(p.stats.already_there);
    // Artifacts that refer to the image (SBOM, provenance) and how the
    // registry lists them: "api" (OCI 1.1 referrers API) or "tag" (the
    // sha256-<digest> tag index, for registries without it).
    w.Key("referrers").Int(p.stats.referrers);
    if (p.stats.referrers > 0)
      w.Key("referrers_listed_by")
          .String(p.stats.referrers_tag ? "tag" : "api");
    w.EndObject();
  }
  w.EndArray();
}

RegistrySession::RegistrySession(const RegistryFlags& flags)
    : transport_(TransportOptions(flags)),
      helpers_(RegistryEnvironment()),
      access_(&transport_, AccessOptions(flags, &helpers_)) {}

void PushImages(ImageSource& source, const std::vector<LayoutImage>& images,
                const RegistryFlags& flags, std::vector<PushedImage>* pushed,
                std::vector<std::string>* errors) {
  RegistrySession session(flags);
  reg::RegistryAccess& access = session.access();
  constexpr size_t kMaxRemembered = 50000;
  std::vector<std::string> hosts;
  for (const LayoutImage& image : images) {
    absl::StatusOr<reg::ImageReference> r =
        reg::ParseImageReference(image.name);
    if (!r.ok() || flags.state_dir.empty() ||
        std::find(hosts.begin(), hosts.end(), r->registry) != hosts.end()) {
      continue;
    }
    hosts.push_back(r->registry);
    access.Locations(r->registry)
        .Load(absl::StrCat(flags.state_dir, "/", r->registry, ".blobs"),
              kMaxRemembered);
  }
  for (const LayoutImage& image : images) {
    absl::StatusOr<std::vector<PushedImage>> r =
        PushImageTags(access, source, image, flags);
    if (!r.ok()) {
      errors->push_back(std::string(r.status().message()));
      continue;
    }
    pushed->insert(pushed->end(), r->begin(), r->end());
  }
  for (const std::string& host : hosts) {
    // Only a hint for later pushes: a failure to save it loses nothing.
    (void)access.Locations(host).Save(
        absl::StrCat(flags.state_dir, "/", host, ".blobs"), kMaxRemembered);
  }
}

std::vector<LayoutImage> ImagesOfRefs(const std::vector<std::string>& refs) {
  std::vector<LayoutImage> out;
  for (const std::string& ref : refs) {
    size_t colon = ref.rfind(':');
    if (colon == std::string::npos || ref.find('/', colon) != std::string::npos)
      continue;  // not NAME:TAG
    std::string name = ref.substr(0, colon), tag = ref.substr(colon + 1);
    auto it = std::find_if(out.begin(), out.end(), [&](const LayoutImage& i) {
      return i.name == name;
    });
    if (it == out.end()) {
      out.push_back(LayoutImage{name, {tag}});
    } else if (std::find(it->tags.begin(), it->tags.end(), tag) ==
               it->tags.end()) {
      it->tags.push_back(tag);
    }
  }
  return out;
}

std::string ReportWithPushes(const std::string& report,
                             const std::vector<PushedImage>& pushed,
                             const std::vector<std::string>& errors) {
  // The report is one JSON object: the members go before its last brace.
  size_t end = report.rfind('}');
  if (end == std::string::npos) return report;
  common::JsonWriter w;
  w.BeginObject();
  w.Key("pushed");
  WritePushedJson(pushed, w);
  w.Key("push_errors").StringArray(errors);
  w.EndObject();
  std::string members = w.str();
  members = members.substr(members.find('{') + 1);
  members.resize(members.rfind('}'));
  std::string head = report.substr(0, end);
  while (!head.empty() && (head.back() == '\n' || head.back() == ' '))
    head.pop_back();
  return absl::StrCat(head, ",", members, "}", report.substr(end + 1));
}

}  // namespace pbrx::client
