#include "coordinator/image_sink.h"

#include <dirent.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cache/in_memory_blob_store.h"
#include "common/oci/image_layout.h"
#include "common/oci/layout_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::coordinator {
namespace {

using common::Digest;

// Blobs in a layout directory.
std::vector<std::string> LayoutBlobs(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir((dir + "/blobs/sha256").c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

class ImageSinkTest : public ::testing::Test {
 protected:
  common::oci::Layer Layer(const std::string& content) {
    common::oci::Layer l;
    l.digest = cache::WriteBlob(cas_, content).value();
    l.diff_id = Digest::Of("uncompressed " + content);
    return l;
  }
  common::oci::ImageConfig Config(const std::string& title) {
    common::oci::ImageConfig c;
    c.cmd = {"/usr/local/bin/" + title};
    c.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
    c.labels = {{"org.opencontainers.image.title", title}};
    return c;
  }
  cache::InMemoryBlobStore cas_;
};

TEST_F(ImageSinkTest, TheCasGetsOnlyConfigAndManifest) {
  common::oci::Layer base = Layer("base layer"), app = Layer("app layer");
  CasImageSink sink(&cas_);
  auto desc = sink.Put({base, app}, Config("app"), {"app:latest"});
  ASSERT_TRUE(desc.ok()) << desc.status();
  common::oci::ImageBlobs want =
      common::oci::MakeImageBlobs({base, app}, Config("app"));
  EXPECT_EQ(desc->manifest, want.descriptor.manifest);
  EXPECT_EQ(desc->config, want.descriptor.config);
  EXPECT_EQ(desc->size, want.manifest.size() + want.config.size() +
                            base.digest.size() + app.digest.size());
  EXPECT_EQ(cache::ReadBlob(cas_, desc->manifest).value(), want.manifest);
  EXPECT_EQ(cache::ReadBlob(cas_, desc->config).value(), want.config);
  EXPECT_TRUE(
      absl::StrContains(want.manifest, common::oci::DigestString(app.digest)));
}

TEST_F(ImageSinkTest, ALayoutGetsEachLayerOnceAndTheSameManifest) {
  common::oci::Layer base = Layer("base layer"), api = Layer("api layer"),
                     cli = Layer("cli layer");
  std::string dir = testing_util::NewTempDir("sink") + "/layout";
  auto sink =
      OciLayoutImageSink::Open(&cas_, dir, testing_util::NewTempDir("scratch"));
  ASSERT_TRUE(sink.ok()) << sink.status();
  auto a = (*sink)->Put({base, api}, Config("api"), {"api:latest"});
  ASSERT_TRUE(a.ok()) << a.status();
  auto c = (*sink)->Put({base, cli}, Config("cli"), {"cli:latest", "cli:v1"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*sink)->layers_copied(), 3);  // base once
  // The same image through the CAS sink: the same manifest digest.
  CasImageSink cas_sink(&cas_);
  EXPECT_EQ(cas_sink.Put({base, cli}, Config("cli"), {}).value().manifest,
            c->manifest);
  std::vector<std::string> want = {base.digest.hash(), api.digest.hash(),
                                   cli.digest.hash(),  a->manifest.hash(),
                                   a->config.hash(),   c->manifest.hash(),
                                   c->config.hash()};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(LayoutBlobs(dir), want);
  std::string index = testing_util::ReadFile(dir + "/index.json");
  EXPECT_TRUE(absl::StrContains(index, "\"cli:v1\"")) << index;
}

TEST_F(ImageSinkTest, ReferrersAreArtifactsListedBesideTheirImage) {
  common::oci::Layer base = Layer("base layer");
  std::string dir = testing_util::NewTempDir("sink") + "/layout";
  auto sink =
      OciLayoutImageSink::Open(&cas_, dir, testing_util::NewTempDir("scratch"));
  ASSERT_TRUE(sink.ok()) << sink.status();
  auto v1 = (*sink)->Put({base}, Config("app"), {"app:latest"});
  ASSERT_TRUE(v1.ok()) << v1.status();
  auto sbom =
      (*sink)->PutReferrer(v1->manifest, "application/spdx+json", "{\"a\":1}");
  ASSERT_TRUE(sbom.ok()) << sbom.status();
  auto prov =
      (*sink)->PutReferrer(v1->manifest, "application/vnd.in-toto+json", "{}");
  ASSERT_TRUE(prov.ok()) << prov.status();
  // The artifact manifest: OCI 1.1, the empty config, one layer, subject.
  const std::string want_manifest = common::oci::MakeArtifactManifest(
      "application/spdx+json", "application/spdx+json", Digest::Of("{\"a\":1}"),
      v1->manifest);
  EXPECT_EQ(*sbom, Digest::Of(want_manifest));
  EXPECT_EQ(testing_util::ReadFile(dir + "/blobs/sha256/" + sbom->hash()),
            want_manifest);
  EXPECT_TRUE(absl::StrContains(
      want_manifest,
      "\"subject\":{\"mediaType\":\"application/"
      "vnd.oci.image.manifest.v1+json\",\"digest\":\"" +
          common::oci::DigestString(v1->manifest) +
          "\",\"size\":" + std::to_string(v1->manifest.size()) + "}"));
  EXPECT_TRUE(absl::StrContains(
      want_manifest,
      "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\","
      "\"digest\":\"sha256:"
      "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\","
      "\"size\":2}"));
  auto listed = common::oci::LayoutReferrers(dir, v1->manifest);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].manifest, *sbom);
  EXPECT_EQ((*listed)[1].artifact_type, "application/vnd.in-toto+json");
  // The layout still has one image to pick without a ref.
  common::oci::OciReadOptions ro;
  ro.verify_layers = false;  // these layers are not real tars
  auto read = common::oci::ReadOciImage(dir, "", ro);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->manifest, v1->manifest);

  // The same in the CAS: the same artifact manifest, its blobs stored.
  CasImageSink cas_sink(&cas_);
  EXPECT_EQ(
      cas_sink.PutReferrer(v1->manifest, "application/spdx+json", "{\"a\":1}")
          .value(),
      *sbom);
  EXPECT_EQ(cache::ReadBlob(cas_, *sbom).value(), want_manifest);
  EXPECT_EQ(cache::ReadBlob(cas_, Digest::Of("{}")).value(), "{}");

  // The ref moves to a rebuilt image: its old referrers leave index.json.
  auto v2 = (*sink)->Put({base}, Config("app2"), {"app:latest"});
  ASSERT_TRUE(v2.ok()) << v2.status();
  auto sbom2 =
      (*sink)->PutReferrer(v2->manifest, "application/spdx+json", "{\"a\":2}");
  ASSERT_TRUE(sbom2.ok()) << sbom2.status();
  EXPECT_TRUE(common::oci::LayoutReferrers(dir, v1->manifest)->empty());
  ASSERT_EQ(common::oci::LayoutReferrers(dir, v2->manifest)->size(), 1u);
  std::string index = testing_util::ReadFile(dir + "/index.json");
  EXPECT_FALSE(absl::StrContains(index, sbom->hash())) << index;
}

TEST_F(ImageSinkTest, ALayerMissingFromTheCasIsNamed) {
  common::oci::Layer ghost;
  ghost.digest = Digest::Of("never stored");
  ghost.diff_id = Digest::Of("x");
  std::string message =
      "layer " + ghost.digest.ToString() + " is not in the CAS";
  CasImageSink cas_sink(&cas_);
  auto r = cas_sink.Put({ghost}, Config("x"), {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), message);
  auto sink = OciLayoutImageSink::Open(
      &cas_, testing_util::NewTempDir("sink") + "/layout",
      testing_util::NewTempDir("scratch"));
  ASSERT_TRUE(sink.ok());
  r = (*sink)->Put({ghost}, Config("x"), {"x:latest"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), message);
}

}  // namespace
}  // namespace pbrx::coordinator
