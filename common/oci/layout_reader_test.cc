#include "common/oci/layout_reader.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::common::oci {
namespace {

using ::testing::HasSubstr;

std::string Gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A layout built blob by blob; descriptors are JSON text.
class Layout {
 public:
  Layout() : dir_(testing_util::NewTempDir("layout")) {
    mkdir((dir_ + "/blobs").c_str(), 0755);
    mkdir((dir_ + "/blobs/sha256").c_str(), 0755);
  }
  // Stores `bytes`; returns a descriptor for it.
  std::string Put(const std::string& bytes, const std::string& media,
                  const std::string& extra = "") {
    Digest d = Digest::Of(bytes);
    std::ofstream(dir_ + "/blobs/sha256/" + d.hash(), std::ios::binary)
        << bytes;
    return absl::StrCat("{\"mediaType\":\"", media,
                        "\",\"digest\":\"sha256:", d.hash(),
                        "\",\"size\":", bytes.size(), extra, "}");
  }
  void Index(const std::string& manifests) {
    std::ofstream(dir_ + "/index.json")
        << "{\"schemaVersion\":2,\"manifests\":[" << manifests << "]}";
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

constexpr char kManifest[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kConfig[] = "application/vnd.oci.image.config.v1+json";
constexpr char kTar[] = "application/vnd.oci.image.layer.v1.tar";
constexpr char kTarGz[] = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr char kRef[] =
    ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"base\"}";

// An image with a plain and a gzip layer; returns the manifest descriptor.
std::string GoodImage(Layout& l, const std::string& extra = kRef,
                      const std::string& diff1 = "") {
  std::string t1 = "tar bytes one", t2 = "tar bytes two";
  std::string config = absl::StrCat(
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
      "\"layers\",\"diff_ids\":[\"sha256:",
      diff1.empty() ? Digest::Of(t1).hash() : diff1,
      "\",\"sha256:", Digest::Of(t2).hash(), "\"]}}");
  std::string manifest =
      absl::StrCat("{\"schemaVersion\":2,\"mediaType\":\"", kManifest,
                   "\",\"config\":", l.Put(config, kConfig), ",\"layers\":[",
                   l.Put(t1, kTar), ",", l.Put(Gzip(t2), kTarGz), "]}");
  return l.Put(manifest, kManifest, extra);
}

TEST(LayoutReaderTest, ReadsAndVerifiesAnImage) {
  Layout l;
  l.Index(GoodImage(l));
  auto image = ReadOciImage(l.dir(), "base");
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_EQ(image->layers.size(), 2u);
  EXPECT_EQ(image->layers[1].diff_id.hash(),
            Digest::Of("tar bytes two").hash());
  EXPECT_EQ(image->layers[1].digest, Digest::Of(Gzip("tar bytes two")));
  EXPECT_EQ(image->layers[0].path,
            l.dir() + "/blobs/sha256/" + Digest::Of("tar bytes one").hash());
  EXPECT_THAT(image->config_json, HasSubstr("\"diff_ids\""));
  auto missing = ReadOciImage(l.dir(), "nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "no image 'nope' in " + l.dir() + " (refs: base)");
}

TEST(LayoutReaderTest, DigestsThatAreNotDigestsNeverBecomePaths) {
  Layout l;
  l.Index(
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"digest\":\"sha256:../../../../etc/passwd\",\"size\":10}");
  auto image = ReadOciImage(l.dir(), "");
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(image.status().message(),
            "manifest: digest 'sha256:../../../../etc/passwd' is not sha256: "
            "followed by 64 lowercase hex digits");
}

TEST(LayoutReaderTest, ABlobThatLiesIsNamed) {
  Layout l;
  std::string desc = GoodImage(l, "");
  l.Index(desc);
  // Overwrite the manifest blob with other bytes.
  std::string hash = desc.substr(desc.find("sha256:") + 7, 64);
  std::ofstream(l.dir() + "/blobs/sha256/" + hash) << "{\"tampered\":1}";
  auto image = ReadOciImage(l.dir(), "");
  EXPECT_EQ(image.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(image.status().message(),
              HasSubstr("manifest blob sha256:" + hash));
}

TEST(LayoutReaderTest, DiffIdsAreCheckedAgainstTheUncompressedLayers) {
  Layout l;
  std::string wrong = Digest::Of("something else").hash();
  l.Index(GoodImage(l, "", wrong));
  auto image = ReadOciImage(l.dir(), "");
  EXPECT_EQ(image.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(image.status().message(),
            "layer 0 sha256:" + Digest::Of("tar bytes one").hash() +
                ": its uncompressed tar is sha256:" +
                Digest::Of("tar bytes one").hash() +
                ", not the config's diff_id sha256:" + wrong);
}

TEST(LayoutReaderTest, IndexesArePickedByPlatform) {
  Layout l;
  std::string amd64 = GoodImage(
      l, ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}");
  std::string arm = l.Put("{\"schemaVersion\":2,\"layers\":[]}", kManifest,
                          ",\"platform\":{\"os\":\"linux\",\"architecture\":"
                          "\"arm64\"}");
  std::string index = absl::StrCat(
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index."
      "v1+json\",\"manifests\":[",
      arm, ",", amd64, "]}");
  l.Index(l.Put(index, "application/vnd.oci.image.index.v1+json", kRef));
  auto image = ReadOciImage(l.dir(), "base");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->layers.size(), 2u);
  OciReadOptions riscv;
  riscv.architecture = "riscv64";
  auto none = ReadOciImage(l.dir(), "base", riscv);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(),
              HasSubstr("has no manifest for linux/riscv64 (platforms: "
                        "linux/arm64, linux/amd64)"));
}

TEST(LayoutReaderTest, BlobsAreReadOnlyBeneathTheLayout) {
  Layout l;
  l.Index(GoodImage(l));
  // The blobs directory swapped for a symlink to a copy elsewhere.
  std::string elsewhere = testing_util::NewTempDir("elsewhere");
  ASSERT_EQ(
      rename((l.dir() + "/blobs").c_str(), (elsewhere + "/blobs").c_str()), 0);
  ASSERT_EQ(
      symlink((elsewhere + "/blobs").c_str(), (l.dir() + "/blobs").c_str()), 0);
  auto image = ReadOciImage(l.dir(), "base");
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(image.status().message(), HasSubstr("leaves " + l.dir()));
}

}  // namespace
}  // namespace pbrx::common::oci

namespace pbrx::common::oci {
namespace {

TEST(LayoutReaderTest, OciSpecsSplitAsSkopeoReadsThem) {
  OciLayoutSpec s = ParseOciLayoutSpec("oci:/srv/images:app-base:latest");
  EXPECT_EQ(s.dir, "/srv/images");
  EXPECT_EQ(s.ref, "app-base:latest");
  s = ParseOciLayoutSpec("oci:/srv/images");
  EXPECT_EQ(s.dir, "/srv/images");
  EXPECT_EQ(s.ref, "");
  s = ParseOciLayoutSpec("oci:");
  EXPECT_EQ(s.dir, "");
  EXPECT_EQ(s.ref, "");
}

}  // namespace
}  // namespace pbrx::common::oci
