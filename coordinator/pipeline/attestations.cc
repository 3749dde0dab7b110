#include "coordinator/pipeline/attestations.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/credentials.h"
#include "common/json_writer.h"
#include "common/version.h"

namespace pbrx::coordinator {
namespace {

std::string Encode(const std::string& s, absl::string_view keep) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_' ||
        c == '~' ||
        keep.find(static_cast<char>(c)) != absl::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string Rfc3339(int64_t seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(seconds),
                          absl::UTCTimeZone());
}

// The PyPI name as a purl spells it (PEP 503 normalised).
std::string PypiName(const std::string& name) {
  std::string n = absl::AsciiStrToLower(name);
  std::string out;
  for (char c : n) {
    bool sep = c == '-' || c == '_' || c == '.';
    if (sep && !out.empty() && out.back() == '-') continue;
    out.push_back(sep ? '-' : c);
  }
  return out;
}

// "pkg:oci/NAME@sha256%3AHEX?repository_url=REPO" for an image reference
// `repo` (no tag) and digest "sha256:HEX".
std::string OciPurl(const std::string& repo, const std::string& digest) {
  std::string last = repo.substr(repo.rfind('/') + 1);
  return absl::StrCat("pkg:oci/", Encode(absl::AsciiStrToLower(last), ""), "@",
                      Encode(digest, ""),
                      "?repository_url=", Encode(repo, "/:"));
}

std::vector<PythonDist> SortedDists(const ImageFacts& f) {
  std::vector<PythonDist> d = f.python;
  std::sort(d.begin(), d.end(), [](const PythonDist& a, const PythonDist& b) {
    return a.file < b.file;
  });
  return d;
}

// The base's repository and its digest as the purl and the provenance
// name them: "docker://reg/repo:tag@sha256:..." -> "reg/repo".
std::string BaseRepository(const std::string& base_name) {
  std::string r = base_name;
  for (absl::string_view p : {"docker://", "oci:"}) {
    if (absl::StartsWith(r, p)) r = r.substr(p.size());
  }
  r = r.substr(0, r.find('@'));
  size_t colon = r.rfind(':');
  if (colon != std::string::npos && r.find('/', colon) == std::string::npos)
    r = r.substr(0, colon);
  return r;
}

void Checksum(common::JsonWriter& w, const std::string& sha256_hex) {
  w.Key("checksums").BeginArray().BeginObject();
  w.Key("algorithm").String("SHA256");
  w.Key("checksumValue").String(sha256_hex);
  w.EndObject().EndArray();
}

void Purl(common::JsonWriter& w, const std::string& purl) {
  w.Key("externalRefs").BeginArray().BeginObject();
  w.Key("referenceCategory").String("PACKAGE-MANAGER");
  w.Key("referenceType").String("purl");
  w.Key("referenceLocator").String(purl);
  w.EndObject().EndArray();
}

void Relationship(common::JsonWriter& w, const std::string& a,
                  const std::string& type, const std::string& b) {
  w.BeginObject();
  w.Key("spdxElementId").String(a);
  w.Key("relationshipType").String(type);
  w.Key("relatedSpdxElement").String(b);
  w.EndObject();
}

void Dependency(common::JsonWriter& w, const std::string& name,
                const std::string& uri, const std::string& algorithm,
                const std::string& value) {
  w.BeginObject();
  w.Key("name").String(name);
  if (!uri.empty()) w.Key("uri").String(uri);
  w.Key("digest").BeginObject().Key(algorithm).String(value).EndObject();
  w.EndObject();
}

}  // namespace

std::pair<std::string, std::string> WheelNameVersion(const std::string& file) {
  if (!absl::EndsWith(file, ".whl")) return {};
  std::vector<std::string> parts = absl::StrSplit(file, '-');
  if (parts.size() < 5 || parts[0].empty() || parts[1].empty()) return {};
  return {parts[0], parts[1]};
}

std::string PurlEncode(const std::string& s) { return Encode(s, ""); }

std::string SpdxDocument(const ImageFacts& f) {
  const std::string digest = "sha256:" + f.manifest.hash();
  common::JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Key("spdxVersion").String("SPDX-2.3");
  w.Key("dataLicense").String("CC0-1.0");
  w.Key("SPDXID").String("SPDXRef-DOCUMENT");
  w.Key("name").String(absl::StrCat(f.image, "@", digest));
  w.Key("documentNamespace")
      .String(
          absl::StrCat("urn:pbrx:spdx:", Encode(f.image, "/:"), "@", digest));
  w.Key("creationInfo").BeginObject();
  w.Key("created").String(Rfc3339(f.created));
  w.Key("creators").StringArray({absl::StrCat("Tool: pbrx-", kVersion)});
  w.EndObject();
  w.Key("documentDescribes").StringArray({"SPDXRef-image"});

  std::vector<std::pair<std::string, std::string>> relationships = {
      {"SPDXRef-DOCUMENT", "SPDXRef-image"}};
  w.Key("packages").BeginArray();
  // The image itself.
  w.BeginObject();
  w.Key("SPDXID").String("SPDXRef-image");
  w.Key("name").String(f.image);
  w.Key("versionInfo").String(digest);
  w.Key("downloadLocation").String("NOASSERTION");
  w.Key("filesAnalyzed").Bool(false);
  w.Key("primaryPackagePurpose").String("CONTAINER");
  Checksum(w, f.manifest.hash());
  Purl(w, OciPurl(f.image, digest));
  w.EndObject();
  // Its base.
  w.BeginObject();
  w.Key("SPDXID").String("SPDXRef-base");
  w.Key("name").String(f.base_name);
  if (!f.base_digest.empty()) w.Key("versionInfo").String(f.base_digest);
  w.Key("downloadLocation").String("NOASSERTION");
  w.Key("filesAnalyzed").Bool(false);
  w.Key("primaryPackagePurpose").String("CONTAINER");
  if (absl::StartsWith(f.base_digest, "sha256:")) {
    Checksum(w, f.base_digest.substr(7));
    Purl(w, OciPurl(BaseRepository(f.base_name), f.base_digest));
  }
  w.EndObject();
  // Python distributions.
  int n = 0;
  for (const PythonDist& d : SortedDists(f)) {
    auto [name, version] = WheelNameVersion(d.file);
    if (name.empty()) continue;
    std::string id = absl::StrCat("SPDXRef-pypi-", ++n);
    relationships.emplace_back("SPDXRef-image", id);
    w.BeginObject();
    w.Key("SPDXID").String(id);
    w.Key("name").String(PypiName(name));
    w.Key("versionInfo").String(version);
    w.Key("packageFileName").String(d.file);
    bool url = absl::StartsWith(d.source, "https://") ||
               absl::StartsWith(d.source, "http://");
    w.Key("downloadLocation")
        .String(url ? common::WithoutUserinfo(d.source) : "NOASSERTION");
    std::vector<std::string> info;
    if (!url && !d.source.empty()) info.push_back("from " + d.source);
    if (!d.sdist_file.empty()) {
      info.push_back(absl::StrCat("built from the sdist ", d.sdist_file,
                                  " (sha256:", d.sdist.hash(), ")"));
    }
    if (!info.empty()) w.Key("sourceInfo").String(absl::StrJoin(info, ", "));
    w.Key("filesAnalyzed").Bool(false);
    w.Key("primaryPackagePurpose").String("LIBRARY");
    Checksum(w, d.digest.hash());
    Purl(w, absl::StrCat("pkg:pypi/", Encode(PypiName(name), ""), "@",
                         Encode(version, "")));
    w.EndObject();
  }
  // Distro packages.
  const std::string type = f.distro.manager == "apk" ? "apk" : "deb";
  const std::string ns = f.distro.distro_id.empty()
                             ? (type == "apk" ? "alpine" : "debian")
                             : f.distro.distro_id;
  n = 0;
  for (const DistroPackage& p : f.distro.packages) {
    std::string id = absl::StrCat("SPDXRef-", type, "-", ++n);
    relationships.emplace_back("SPDXRef-image", id);
    w.BeginObject();
    w.Key("SPDXID").String(id);
    w.Key("name").String(p.name);
    w.Key("versionInfo").String(p.version);
    w.Key("downloadLocation").String("NOASSERTION");
    if (!p.source.empty())
      w.Key("sourceInfo").String("built from the source package " + p.source);
    w.Key("filesAnalyzed").Bool(false);
    std::string purl =
        absl::StrCat("pkg:", type, "/", Encode(ns, ""), "/", Encode(p.name, ""),
                     "@", Encode(p.version, ""));
    std::vector<std::string> q;
    if (!p.arch.empty()) q.push_back("arch=" + Encode(p.arch, ""));
    if (!f.distro.version_id.empty())
      q.push_back(absl::StrCat("distro=", Encode(ns, ""), "-",
                               Encode(f.distro.version_id, "")));
    if (!q.empty()) absl::StrAppend(&purl, "?", absl::StrJoin(q, "&"));
    Purl(w, purl);
    w.EndObject();
  }
  w.EndArray();

  w.Key("relationships").BeginArray();
  Relationship(w, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-image");
  Relationship(w, "SPDXRef-image", "DESCENDANT_OF", "SPDXRef-base");
  for (size_t i = 1; i < relationships.size(); ++i)
    Relationship(w, "SPDXRef-image", "CONTAINS", relationships[i].second);
  w.EndArray();
  w.EndObject();
  return w.str();
}

std::string SlsaProvenance(const ImageFacts& f) {
  common::JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Key("_type").String("https://in-toto.io/Statement/v1");
  w.Key("subject").BeginArray().BeginObject();
  w.Key("name").String(f.image);
  w.Key("digest").BeginObject().Key("sha256").String(f.manifest.hash());
  w.EndObject().EndObject().EndArray();
  w.Key("predicateType").String("https://slsa.dev/provenance/v1");
  w.Key("predicate").BeginObject();

  w.Key("buildDefinition").BeginObject();
  w.Key("buildType").String("urn:pbrx:build-images:v1");
  w.Key("externalParameters").BeginObject();
  w.Key("project").BeginObject();
  w.Key("name").String(f.project_name);
  w.Key("version").String(f.project_version);
  if (!f.source_url.empty()) w.Key("source").String(f.source_url);
  if (!f.revision.empty()) w.Key("revision").String(f.revision);
  w.EndObject();
  w.Key("base").String(f.base_name);
  w.Key("image").String(f.image);
  w.EndObject();
  w.Key("internalParameters").BeginObject();
  w.Key("distro_packages").BeginObject();
  w.Key("runtime").StringArray(f.runtime_packages);
  w.Key("builder").StringArray(f.builder_packages);
  w.EndObject();
  w.Key("source_date_epoch").Int(f.created);
  w.EndObject();

  w.Key("resolvedDependencies").BeginArray();
  if (!f.revision.empty()) {
    Dependency(w, "source", f.source_url.empty() ? "" : "git+" + f.source_url,
               "gitCommit", f.revision);
  }
  Dependency(w, "source-tree", "", "sha256", f.source_root.hash());
  if (absl::StartsWith(f.base_digest, "sha256:")) {
    Dependency(w, "base", "docker://" + BaseRepository(f.base_name), "sha256",
               f.base_digest.substr(7));
  }
  for (const PythonDist& d : SortedDists(f)) {
    bool url = absl::StartsWith(d.source, "https://") ||
               absl::StartsWith(d.source, "http://");
    Dependency(w, d.file, url ? common::WithoutUserinfo(d.source) : "",
               "sha256", d.digest.hash());
    if (!d.sdist_file.empty())
      Dependency(w, d.sdist_file, "", "sha256", d.sdist.hash());
  }
  w.EndArray();
  w.EndObject();  // buildDefinition

  w.Key("runDetails").BeginObject();
  w.Key("builder").BeginObject();
  w.Key("id").String(f.builder_id);
  w.Key("version").BeginObject().Key("pbrx").String(kVersion).EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();  // predicate
  w.EndObject();
  return w.str();
}

}  // namespace pbrx::coordinator
