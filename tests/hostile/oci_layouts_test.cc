// Hostile OCI image layouts (`--base oci:DIR`, or a base_layout uploaded in
// a BuildRequest): what a base image's author controls, read by the real
// reader (common/oci/layout_reader). A layout is written from parts: part 0
// is index.json, part i >= 1 the blob named by its sha256; "@Di" in a part
// becomes "sha256:<hex of part i>" and "@Si" its size (i greater than the
// part's own number). Each case asserts the exact outcome and that nothing
// beside the layout changed.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/oci/layout_reader.h"
#include "common/sha256.h"
#include "gtest/gtest.h"
#include "tests/hostile/host_canary.h"

namespace pbrx::hostile {
namespace {

struct OciCase {
  std::string name;
  std::vector<std::string> parts;
  std::string ref;
  // Changes the written layout (hex[i]: file name of part i).
  std::function<void(const HostCanary&, const std::vector<std::string>& hex)>
      tamper;
  std::string outcome;  // "{dir}" stands for the case dir, "{hexN}" for part N
};
void PrintTo(const OciCase& c, std::ostream* os) { *os << c.name; }

// Writes the layout; returns the hex digest of every part.
std::vector<std::string> WriteLayout(const std::string& dir,
                                     std::vector<std::string> parts) {
  std::vector<std::string> hex(parts.size());
  for (size_t i = parts.size(); i-- > 0;) {
    std::vector<std::pair<std::string, std::string>> subst;
    for (size_t j = parts.size(); j-- > i + 1;) {
      subst.emplace_back(absl::StrCat("@D", j), "sha256:" + hex[j]);
      subst.emplace_back(absl::StrCat("@S", j), absl::StrCat(parts[j].size()));
    }
    parts[i] = absl::StrReplaceAll(parts[i], subst);
    hex[i] = common::Sha256::HexOf(parts[i]);
  }
  std::ofstream(dir + "/oci-layout") << "{\"imageLayoutVersion\":\"1.0.0\"}";
  std::ofstream(dir + "/index.json", std::ios::binary) << parts[0];
  mkdir((dir + "/blobs").c_str(), 0755);
  mkdir((dir + "/blobs/sha256").c_str(), 0755);
  for (size_t i = 1; i < parts.size(); ++i) {
    std::ofstream(dir + "/blobs/sha256/" + hex[i], std::ios::binary)
        << parts[i];
  }
  return hex;
}

class HostileLayoutTest : public ::testing::TestWithParam<OciCase> {};

TEST_P(HostileLayoutTest, RefusedNamingTheBlobAndTheHostIsUntouched) {
  HostCanary canary;
  std::vector<std::string> hex = WriteLayout(canary.root(), GetParam().parts);
  if (GetParam().tamper) GetParam().tamper(canary, hex);
  auto image = common::oci::ReadOciImage(canary.root(), GetParam().ref);
  std::string outcome =
      image.ok() ? absl::StrCat("ok layers=", image->layers.size())
                 : absl::StrCat(absl::StatusCodeToString(image.status().code()),
                                ": ", image.status().message());
  std::vector<std::pair<std::string, std::string>> names = {
      {canary.dir(), "{dir}"}};
  for (size_t i = 0; i < hex.size(); ++i)
    names.emplace_back(hex[i], absl::StrCat("{hex", i, "}"));
  outcome = absl::StrReplaceAll(outcome, names);
  if (std::getenv("HOSTILE_DISCOVER") != nullptr)
    std::printf("ACTUAL %s|%s\n", GetParam().name.c_str(), outcome.c_str());
  EXPECT_EQ(outcome, GetParam().outcome);
  EXPECT_TRUE(canary.Untouched());
}

const char kIndexOne[] =
    R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"@D1","size":@S1,"annotations":{"org.opencontainers.image.ref.name":"base"}}]})";
const char kManifest[] =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"@D2","size":@S2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"@D3","size":@S3}]})";
const char kConfig[] =
    R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["@D3"]}})";
const char kLayer[] = "a tar standing in for a layer";

std::string Index(const std::string& descriptor) {
  return absl::StrCat(R"({"schemaVersion":2,"manifests":[)", descriptor, "]}");
}
std::string Descriptor(const std::string& digest, const std::string& size,
                       const std::string& extra = "") {
  return absl::StrCat(
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")",
      digest, R"(","size":)", size, extra, "}");
}

std::vector<OciCase> Cases() {
  using C = OciCase;
  const std::vector<std::string> good = {kIndexOne, kManifest, kConfig, kLayer};
  auto with = [&](size_t i, std::string part) {
    std::vector<std::string> p = good;
    p[i] = std::move(part);
    return p;
  };
  auto replace_in = [&](size_t i, std::string from, std::string to) {
    std::vector<std::string> p = good;
    p[i] = absl::StrReplaceAll(p[i], {{from, to}});
    return p;
  };
  auto link_blob = [](size_t part, std::string target) {
    return [part, target](const HostCanary& c,
                          const std::vector<std::string>& hex) {
      std::string blob = c.root() + "/blobs/sha256/" + hex[part];
      unlink(blob.c_str());
      symlink(
          absl::StrReplaceAll(target, {{"{secret}", c.secret_path()}}).c_str(),
          blob.c_str());
    };
  };
  auto index_file = [](std::function<void(const std::string&)> f) {
    return [f](const HostCanary& c, const std::vector<std::string>&) {
      std::string index = c.root() + "/index.json";
      unlink(index.c_str());
      f(index);
    };
  };
  return {
      C{"Good", good, "base", nullptr, "ok layers=1"},
      C{"DigestTraversal",
        with(0, Index(Descriptor("sha256:../../canary/secret", "10"))), "",
        nullptr,
        "INVALID_ARGUMENT: manifest: digest 'sha256:../../canary/secret' is "
        "not sha256: followed by 64 lowercase hex digits"},
      C{"DigestAbsolute",
        with(0, Index(Descriptor("sha256:/etc/passwd", "10"))), "", nullptr,
        "INVALID_ARGUMENT: manifest: digest 'sha256:/etc/passwd' is not "
        "sha256: followed by 64 lowercase hex digits"},
      C{"DigestUppercase",
        with(0, Index(Descriptor("sha256:" + std::string(64, 'A'), "10"))), "",
        nullptr,
        "INVALID_ARGUMENT: manifest: digest "
        "'sha256:"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' is "
        "not sha256: followed by 64 lowercase hex digits"},
      C{"DigestShort", with(0, Index(Descriptor("sha256:abc", "10"))), "",
        nullptr,
        "INVALID_ARGUMENT: manifest: digest 'sha256:abc' is not sha256: "
        "followed by 64 lowercase hex digits"},
      C{"DigestOtherAlgorithm",
        with(0, Index(Descriptor("sha512:" + std::string(128, 'a'), "10"))), "",
        nullptr,
        "INVALID_ARGUMENT: manifest: digest "
        "'sha512:"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaa' is not sha256: followed by 64 lowercase hex "
        "digits"},
      C{"SizeNegative", replace_in(0, "\"size\":@S1", "\"size\":-1"), "base",
        nullptr, "INVALID_ARGUMENT: manifest: descriptor without a valid size"},
      C{"SizeLies", replace_in(0, "\"size\":@S1", "\"size\":5"), "base",
        nullptr,
        "DATA_LOSS: manifest blob sha256:{hex1} (5 bytes) does not match its "
        "digest: the file holds sha256:{hex1} (395 bytes)"},
      C{"SizeHuge", replace_in(0, "\"size\":@S1", "\"size\":1e300"), "base",
        nullptr, "INVALID_ARGUMENT: manifest: descriptor without a valid size"},
      C{"BlobContentLies", good, "base",
        [](const HostCanary& c, const std::vector<std::string>& hex) {
          std::ofstream(c.root() + "/blobs/sha256/" + hex[2])
              << "{\"other\":1}";
        },
        "DATA_LOSS: config blob sha256:{hex2} (151 bytes) does not match its "
        "digest: the file holds "
        "sha256:"
        "8b0bb7512fb6d1595c87b3604b48935021ab88233ea853246f5c244600a40929 (11 "
        "bytes)"},
      C{"BlobSymlinkToCanary", good, "base", link_blob(3, "{secret}"),
        "INVALID_ARGUMENT: {dir}/tree/blobs/sha256/{hex3}: leaves {dir}/tree "
        "(through a symlink or '..'); files are read only beneath it"},
      C{"BlobSymlinkRelativeOut", good, "base",
        link_blob(3, "../../../canary/secret"),
        "INVALID_ARGUMENT: {dir}/tree/blobs/sha256/{hex3}: leaves {dir}/tree "
        "(through a symlink or '..'); files are read only beneath it"},
      C{"BlobSymlinkDevZero", good, "base", link_blob(3, "/dev/zero"),
        "INVALID_ARGUMENT: {dir}/tree/blobs/sha256/{hex3}: leaves {dir}/tree "
        "(through a symlink or '..'); files are read only beneath it"},
      C{"BlobIsADirectory", good, "base",
        [](const HostCanary& c, const std::vector<std::string>& hex) {
          std::string blob = c.root() + "/blobs/sha256/" + hex[3];
          unlink(blob.c_str());
          mkdir(blob.c_str(), 0755);
        },
        "INVALID_ARGUMENT: {dir}/tree/blobs/sha256/{hex3}: is not a regular "
        "file"},
      C{"IndexSymlinkToCanary", good, "base",
        index_file([](const std::string& index) {
          symlink("../canary/secret", index.c_str());
        }),
        "INVALID_ARGUMENT: {dir}/tree/index.json: leaves {dir}/tree (through a "
        "symlink or '..'); files are read only beneath it"},
      C{"IndexDevZero", good, "base", index_file([](const std::string& index) {
          symlink("/dev/zero", index.c_str());
        }),
        "INVALID_ARGUMENT: {dir}/tree/index.json: leaves {dir}/tree (through a "
        "symlink or '..'); files are read only beneath it"},
      C{"IndexFifo", good, "base", index_file([](const std::string& index) {
          mkfifo(index.c_str(), 0644);
        }),
        "INVALID_ARGUMENT: {dir}/tree/index.json: is not a regular file"},
      C{"IndexOverTheCap", with(0, std::string((4 << 20) + 1, ' ')), "",
        nullptr,
        "INVALID_ARGUMENT: {dir}/tree/index.json: 4194305 bytes, more than the "
        "limit of 4194304"},
      C{"IndexDeeplyNested",
        with(0, std::string(200000, '[') + std::string(200000, ']')), "",
        nullptr,
        "INVALID_ARGUMENT: {dir}/tree/index.json is not valid JSON: line 1, "
        "column 101: nested deeper than 100 levels"},
      C{"IndexNotJson", with(0, "schemaVersion: 2"), "", nullptr,
        "INVALID_ARGUMENT: {dir}/tree/index.json is not valid JSON: line 1, "
        "column 1: expected a value"},
      C{"ManifestWithoutConfig",
        with(
            1,
            R"({"schemaVersion":2,"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"@D3","size":@S3}]})"),
        "base", nullptr,
        "INVALID_ARGUMENT: manifest sha256:{hex1} has no config"},
      C{"ConfigNotJson", with(2, "not json"), "base", nullptr,
        "INVALID_ARGUMENT: config sha256:{hex2} is not valid JSON: line 1, "
        "column 1: expected a value"},
      C{"DiffIdLies",
        with(
            2,
            R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:)" +
                std::string(64, '0') + R"("]}})"),
        "base", nullptr,
        "DATA_LOSS: layer 0 sha256:{hex3}: its uncompressed tar is "
        "sha256:{hex3}, not the config's diff_id "
        "sha256:"
        "0000000000000000000000000000000000000000000000000000000000000000"},
      C{"DiffIdsFewerThanLayers",
        with(
            2,
            R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})"),
        "base", nullptr,
        "INVALID_ARGUMENT: config sha256:{hex2} lists 0 diff_ids for 1 layers"},
      C{"LayerMediaTypeUnknown",
        replace_in(1, "application/vnd.oci.image.layer.v1.tar",
                   "application/x-evil"),
        "base", nullptr,
        "UNIMPLEMENTED: layer 0 sha256:{hex3}: media type 'application/x-evil' "
        "is not supported (tar or tar+gzip)"},
      C{"OnlyAnotherPlatform",
        with(0, Index(Descriptor(
                    "@D1", "@S1",
                    R"(,"platform":{"architecture":"arm64","os":"linux"})"))),
        "", nullptr,
        "NOT_FOUND: the image in {dir}/tree is for linux/arm64, not "
        "linux/amd64"},
      C{"TwoImagesNoRef",
        with(
            0,
            Index(
                Descriptor(
                    "@D1", "@S1",
                    R"(,"annotations":{"org.opencontainers.image.ref.name":"a"})") +
                "," +
                Descriptor(
                    "@D1", "@S1",
                    R"(,"annotations":{"org.opencontainers.image.ref.name":"b"})"))),
        "", nullptr,
        "NOT_FOUND: no image (give :REF) in {dir}/tree (refs: a, b)"},
      C{"RefNotThere", good, "other", nullptr,
        "NOT_FOUND: no image 'other' in {dir}/tree (refs: base)"},
      C{"ConfigForAnotherPlatform",
        with(
            2,
            R"({"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":["@D3"]}})"),
        "base", nullptr,
        "INVALID_ARGUMENT: config sha256:{hex2} is for linux/arm64, not "
        "linux/amd64"},
      C{"IndexOfIndexesTooDeep",
        [] {
          // Ten indexes, each naming the next; the reader must stop.
          std::vector<std::string> p;
          for (int i = 0; i < 10; ++i) {
            p.push_back(absl::StrCat(
                R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"@D)",
                i + 1, R"(","size":@S)", i + 1,
                R"(,"platform":{"os":"linux","architecture":"amd64"}}]})"));
          }
          p.push_back(R"({"schemaVersion":2,"manifests":[]})");
          return p;
        }(),
        "", nullptr,
        "INVALID_ARGUMENT: {dir}/tree: indexes nested more than 4 deep"},
  };
}

INSTANTIATE_TEST_SUITE_P(Layouts, HostileLayoutTest,
                         ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace pbrx::hostile
