#include "coordinator/pipeline/attestations.h"

#include <algorithm>
#include <set>
#include <string>

#include "common/json_struct.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

using common::Digest;
using ::testing::HasSubstr;
using ::testing::Not;

ImageFacts Facts() {
  ImageFacts f;
  f.image = "localhost:5000/team/app-base";
  f.manifest = Digest::Of("manifest");
  f.project_name = "app";
  f.project_version = "1.0";
  f.source_url = "https://git.example/app";
  f.revision = std::string(40, 'a');
  f.source_root = Digest::Of("tree");
  f.base_name =
      "docker://localhost:5000/base:12@sha256:" + std::string(64, 'b');
  f.base_digest = "sha256:" + std::string(64, 'b');
  f.python = {
      {"requests-2.31.0-py3-none-any.whl", Digest::Of("requests"),
       "https://user:secret@pypi.example/packages/requests-2.31.0-py3-none-"
       "any.whl",
       "", Digest::Empty()},
      {"app-1.0-py3-none-any.whl", Digest::Of("app"), "project", "",
       Digest::Empty()},
      {"Foo_Bar-0.1-cp311-cp311-linux_x86_64.whl", Digest::Of("foo"),
       "find-links", "Foo_Bar-0.1.tar.gz", Digest::Of("foo sdist")},
  };
  f.distro.manager = "dpkg";
  f.distro.distro_id = "debian";
  f.distro.version_id = "12";
  f.distro.packages = {{"bash", "5.2.15-2+b2", "amd64", ""},
                       {"zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib"}};
  f.runtime_packages = {"libpq5"};
  f.builder_packages = {"gcc", "python3-dev"};
  f.created = 1700000000;
  f.builder_id = "urn:pbrx:builder:farm";
  return f;
}

google::protobuf::Struct Parse(const std::string& json) {
  absl::StatusOr<google::protobuf::Struct> s =
      common::ParseJsonStruct(json, "document");
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : google::protobuf::Struct();
}

const google::protobuf::Struct* Package(const google::protobuf::Struct& doc,
                                        const std::string& name) {
  for (const auto& p : doc.fields().at("packages").list_value().values()) {
    if (common::Str(p.struct_value(), "name") == name) return &p.struct_value();
  }
  return nullptr;
}

std::string Purl(const google::protobuf::Struct& pkg) {
  return common::Str(
      pkg.fields().at("externalRefs").list_value().values(0).struct_value(),
      "referenceLocator");
}

TEST(SpdxDocumentTest, HasTheRequiredFieldsOfSpdx23) {
  google::protobuf::Struct doc = Parse(SpdxDocument(Facts()));
  EXPECT_EQ(common::Str(doc, "spdxVersion"), "SPDX-2.3");
  EXPECT_EQ(common::Str(doc, "dataLicense"), "CC0-1.0");
  EXPECT_EQ(common::Str(doc, "SPDXID"), "SPDXRef-DOCUMENT");
  EXPECT_EQ(common::Str(doc, "name"), "localhost:5000/team/app-base@sha256:" +
                                          Digest::Of("manifest").hash());
  EXPECT_EQ(common::Str(doc, "documentNamespace"),
            "urn:pbrx:spdx:localhost:5000/team/app-base@sha256:" +
                Digest::Of("manifest").hash());
  const google::protobuf::Struct* ci = common::Obj(doc, "creationInfo");
  ASSERT_NE(ci, nullptr);
  EXPECT_EQ(common::Str(*ci, "created"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(ci->fields().at("creators").list_value().values(0).string_value(),
            "Tool: pbrx-0.1.0");
  std::set<std::string> ids;
  for (const auto& p : doc.fields().at("packages").list_value().values()) {
    const auto& s = p.struct_value();
    std::string id = common::Str(s, "SPDXID");
    EXPECT_TRUE(ids.insert(id).second) << "duplicate " << id;
    EXPECT_EQ(id.find_first_not_of(
                  "SPDXRef-abcdefghijklmnopqrstuvwxyz0123456789.", 0),
              std::string::npos)
        << id;
    EXPECT_FALSE(common::Str(s, "name").empty()) << id;
    EXPECT_FALSE(common::Str(s, "downloadLocation").empty()) << id;
  }
  // image, base, 3 wheels, 2 debs
  EXPECT_EQ(ids.size(), 7u);
  // Every package is reachable: the image contains all but the base.
  int contains = 0;
  for (const auto& r : doc.fields().at("relationships").list_value().values()) {
    const auto& s = r.struct_value();
    EXPECT_TRUE(ids.count(common::Str(s, "relatedSpdxElement")))
        << common::Str(s, "relatedSpdxElement");
    if (common::Str(s, "relationshipType") == "CONTAINS") ++contains;
  }
  EXPECT_EQ(contains, 5);
}

TEST(SpdxDocumentTest, NamesPythonAndDistroPackagesWithPurlsAndDigests) {
  google::protobuf::Struct doc = Parse(SpdxDocument(Facts()));
  const google::protobuf::Struct* req = Package(doc, "requests");
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(common::Str(*req, "versionInfo"), "2.31.0");
  EXPECT_EQ(Purl(*req), "pkg:pypi/requests@2.31.0");
  EXPECT_EQ(common::Str(*req, "downloadLocation"),
            "https://pypi.example/packages/requests-2.31.0-py3-none-any.whl");
  EXPECT_EQ(
      common::Str(
          req->fields().at("checksums").list_value().values(0).struct_value(),
          "checksumValue"),
      Digest::Of("requests").hash());
  const google::protobuf::Struct* foo = Package(doc, "foo-bar");
  ASSERT_NE(foo, nullptr);
  EXPECT_EQ(Purl(*foo), "pkg:pypi/foo-bar@0.1");
  EXPECT_THAT(common::Str(*foo, "sourceInfo"),
              HasSubstr("built from the sdist Foo_Bar-0.1.tar.gz (sha256:" +
                        Digest::Of("foo sdist").hash()));
  const google::protobuf::Struct* zlib = Package(doc, "zlib1g");
  ASSERT_NE(zlib, nullptr);
  EXPECT_EQ(Purl(*zlib),
            "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro="
            "debian-12");
  EXPECT_EQ(Purl(*Package(doc, "bash")),
            "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12");
  const google::protobuf::Struct* base = Package(
      doc, "docker://localhost:5000/base:12@sha256:" + std::string(64, 'b'));
  ASSERT_NE(base, nullptr);
  EXPECT_EQ(Purl(*base), "pkg:oci/base@sha256%3A" + std::string(64, 'b') +
                             "?repository_url=localhost:5000/base");
}

TEST(SpdxDocumentTest, IsTheSameBytesWhateverTheWheelOrderAndHoldsNoSecret) {
  ImageFacts a = Facts(), b = Facts();
  std::reverse(b.python.begin(), b.python.end());
  EXPECT_EQ(SpdxDocument(a), SpdxDocument(b));
  EXPECT_EQ(SlsaProvenance(a), SlsaProvenance(b));
  EXPECT_THAT(SpdxDocument(a), Not(HasSubstr("secret")));
  EXPECT_THAT(SlsaProvenance(a), Not(HasSubstr("secret")));
  a.distro.packages[0].version = "5.2.15-3";
  EXPECT_NE(SpdxDocument(a), SpdxDocument(b));
}

TEST(SlsaProvenanceTest, IsAnInTotoStatementOverTheImage) {
  google::protobuf::Struct st = Parse(SlsaProvenance(Facts()));
  EXPECT_EQ(common::Str(st, "_type"), "https://in-toto.io/Statement/v1");
  EXPECT_EQ(common::Str(st, "predicateType"), "https://slsa.dev/provenance/v1");
  const auto& subject =
      st.fields().at("subject").list_value().values(0).struct_value();
  EXPECT_EQ(common::Str(subject, "name"), "localhost:5000/team/app-base");
  EXPECT_EQ(common::Str(*common::Obj(subject, "digest"), "sha256"),
            Digest::Of("manifest").hash());
  const google::protobuf::Struct* pred = common::Obj(st, "predicate");
  ASSERT_NE(pred, nullptr);
  const google::protobuf::Struct* def = common::Obj(*pred, "buildDefinition");
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(common::Str(*def, "buildType"), "urn:pbrx:build-images:v1");
  std::map<std::string, std::string> deps;  // name -> first digest value
  for (const auto& d :
       def->fields().at("resolvedDependencies").list_value().values()) {
    const auto& s = d.struct_value();
    const auto& digest = common::Obj(s, "digest")->fields();
    deps[common::Str(s, "name")] = digest.begin()->second.string_value();
  }
  EXPECT_EQ(deps["source"], std::string(40, 'a'));
  EXPECT_EQ(deps["base"], std::string(64, 'b'));
  EXPECT_EQ(deps["requests-2.31.0-py3-none-any.whl"],
            Digest::Of("requests").hash());
  EXPECT_EQ(deps["Foo_Bar-0.1.tar.gz"], Digest::Of("foo sdist").hash());
  EXPECT_EQ(deps["source-tree"], Digest::Of("tree").hash());
  EXPECT_EQ(deps.size(), 7u);
  const google::protobuf::Struct* run = common::Obj(*pred, "runDetails");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(common::Str(*common::Obj(*run, "builder"), "id"),
            "urn:pbrx:builder:farm");
}

TEST(AttestationHelpersTest, WheelNamesUrlsAndPurlText) {
  EXPECT_EQ(WheelNameVersion("a_b-1.0-1-py3-none-any.whl"),
            std::make_pair(std::string("a_b"), std::string("1.0")));
  EXPECT_EQ(WheelNameVersion("a-1.0.tar.gz"),
            std::make_pair(std::string(), std::string()));
  EXPECT_EQ(PurlEncode("1:2+3~4 5"), "1%3A2%2B3~4%205");
}

}  // namespace
}  // namespace pbrx::coordinator
