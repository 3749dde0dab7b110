#include "cache/cas_source_tree.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cache/directory_tree.h"
#include "cache/in_memory_blob_store.h"
#include "common/oci/layout_reader.h"
#include "common/project/source_tree.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::cache {
namespace {

// The same tree read on disk and from the CAS gives the same answers, the
// same errors and the same messages (the label stands for the directory).
TEST(CasSourceTreeTest, AnswersAsTheDirectoryDoes) {
  std::string dir = testing_util::NewTempDir("src");
  mkdir((dir + "/a").c_str(), 0755);
  mkdir((dir + "/a/b").c_str(), 0755);
  std::ofstream(dir + "/a/setup.cfg") << "[metadata]\nname = x\n";
  std::ofstream(dir + "/a/b/deep.txt") << "deep";
  std::ofstream(dir + "/big") << std::string(100, 'x');
  for (const auto& [name, target] :
       std::vector<std::pair<std::string, std::string>>{
           {"link-in", "a/setup.cfg"},
           {"c1", "c2"},
           {"c2", "a/setup.cfg"},
           {"up", "a/.."},
           {"a/b/back", "../setup.cfg"},
           {"dir-link", "a"},
           {"escape-abs", "/etc/passwd"},
           {"escape-up", "../outside"},
           {"a/escape-deep", "../../outside"},
           {"loop1", "loop2"},
           {"loop2", "loop1"},
       }) {
    ASSERT_EQ(symlink(target.c_str(), (dir + "/" + name).c_str()), 0) << name;
  }
  InMemoryBlobStore cas;
  absl::StatusOr<cache::UploadedTree> up = cache::UploadDirectory(dir, cas);
  ASSERT_TRUE(up.ok()) << up.status();
  common::project::DirSourceTree disk(dir);
  CasSourceTree stored(&cas, up->root, dir);
  for (const std::string& p : {"a/setup.cfg",
                               "link-in",
                               "c1",
                               "up/a/setup.cfg",
                               "a/b/back",
                               "dir-link/b/deep.txt",
                               "a/./b/../setup.cfg",
                               "escape-abs",
                               "escape-up",
                               "a/escape-deep",
                               "loop1",
                               "a",
                               "",
                               "missing",
                               "a/setup.cfg/x",
                               "a/setup.cfg/..",
                               "big",
                               "../a/setup.cfg",
                               "dir-link",
                               "up/up/a"}) {
    SCOPED_TRACE(p);
    absl::StatusOr<std::string> want = disk.ReadFile(p, 64);
    absl::StatusOr<std::string> got = stored.ReadFile(p, 64);
    EXPECT_EQ(got.status().code(), want.status().code());
    EXPECT_EQ(got.status().message(), want.status().message());
    if (want.ok() && got.ok()) EXPECT_EQ(*got, *want);
    EXPECT_EQ(stored.IsFile(p), disk.IsFile(p));
    EXPECT_EQ(stored.IsDir(p), disk.IsDir(p));
  }
  // Spot checks that the comparison above is not vacuous.
  EXPECT_EQ(stored.ReadFile("c1", 64).value(), "[metadata]\nname = x\n");
  EXPECT_EQ(stored.ReadFile("escape-abs", 64).status().message(),
            dir + "/escape-abs: leaves " + dir +
                " (through a symlink or '..'); files are read only beneath "
                "it");
  EXPECT_EQ(stored.ReadFile("big", 64).status().message(),
            dir + "/big: 100 bytes, more than the limit of 64");
  EXPECT_EQ(stored.ReadFile("loop1", 64).status().message(),
            dir + "/loop1: too many symlinks");
  EXPECT_TRUE(stored.IsDir("dir-link"));
  EXPECT_TRUE(stored.IsDir(""));
  EXPECT_FALSE(stored.IsFile("a"));
}

TEST(CasSourceTreeTest, AMissingDirectoryBlobIsNamed) {
  InMemoryBlobStore cas;
  common::Digest ghost = common::Digest::Of("no such directory");
  CasSourceTree stored(&cas, ghost, "/client/project");
  absl::StatusOr<std::string> r = stored.ReadFile("setup.cfg", 64);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "/client/project: directory " + ghost.ToString() +
                " of the uploaded tree is not in the CAS");
}

TEST(CasSourceTreeTest, StreamsFilesAsTheDirectoryDoes) {
  std::string dir = testing_util::NewTempDir("src");
  std::string big(5 << 20, 'b');  // more than one piece
  big[123] = 'x';
  std::ofstream(dir + "/big", std::ios::binary) << big;
  ASSERT_EQ(symlink("/etc/passwd", (dir + "/escape").c_str()), 0);
  InMemoryBlobStore cas;
  absl::StatusOr<cache::UploadedTree> up = cache::UploadDirectory(dir, cas);
  ASSERT_TRUE(up.ok()) << up.status();
  common::project::DirSourceTree disk(dir);
  CasSourceTree stored(&cas, up->root, dir);
  for (const common::project::SourceTree* tree :
       {static_cast<const common::project::SourceTree*>(&disk),
        static_cast<const common::project::SourceTree*>(&stored)}) {
    std::string got;
    int pieces = 0;
    absl::Status s = tree->StreamFile("big", [&](absl::string_view p) {
      got.append(p.data(), p.size());
      ++pieces;
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(got, big);
    EXPECT_GT(pieces, 1);
    // The first error of the consumer stops the stream and is returned.
    pieces = 0;
    s = tree->StreamFile("big", [&](absl::string_view) {
      ++pieces;
      return absl::AbortedError("enough");
    });
    EXPECT_EQ(s, absl::AbortedError("enough"));
    EXPECT_EQ(pieces, 1);
    s = tree->StreamFile("escape",
                         [](absl::string_view) { return absl::OkStatus(); });
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), dir + "/escape: leaves " + dir +
                               " (through a symlink or '..'); files are read "
                               "only beneath it");
    EXPECT_EQ(
        tree->StreamFile("missing",
                         [](absl::string_view) { return absl::OkStatus(); })
            .code(),
        absl::StatusCode::kNotFound);
  }
}

// An OCI layout uploaded by a client is read and verified from the CAS
// (the farm never stages it): a blob whose bytes are not its name is named.
TEST(CasSourceTreeTest, AnUploadedOciLayoutIsVerifiedFromTheCas) {
  std::string dir = testing_util::NewTempDir("layout");
  mkdir((dir + "/blobs").c_str(), 0755);
  mkdir((dir + "/blobs/sha256").c_str(), 0755);
  auto put = [&](const std::string& bytes, const std::string& media) {
    common::Digest d = common::Digest::Of(bytes);
    std::ofstream(dir + "/blobs/sha256/" + d.hash(), std::ios::binary) << bytes;
    return absl::StrCat("{\"mediaType\":\"", media,
                        "\",\"digest\":\"sha256:", d.hash(),
                        "\",\"size\":", bytes.size(), "}");
  };
  const std::string layer = "tar bytes";
  std::string config = absl::StrCat(
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
      "\"layers\",\"diff_ids\":[\"sha256:",
      common::Digest::Of(layer).hash(), "\"]}}");
  std::string manifest = absl::StrCat(
      "{\"schemaVersion\":2,\"config\":",
      put(config, "application/vnd.oci.image.config.v1+json"), ",\"layers\":[",
      put(layer, "application/vnd.oci.image.layer.v1.tar"), "]}");
  std::ofstream(dir + "/index.json")
      << "{\"schemaVersion\":2,\"manifests\":["
      << put(manifest, "application/vnd.oci.image.manifest.v1+json") << "]}";
  InMemoryBlobStore cas;
  auto read = [&]() {
    absl::StatusOr<cache::UploadedTree> up = cache::UploadDirectory(dir, cas);
    EXPECT_TRUE(up.ok()) << up.status();
    return common::oci::ReadOciImage(
        CasSourceTree(&cas, up->root, "/client/layout"), "");
  };
  absl::StatusOr<common::oci::OciImage> image = read();
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_EQ(image->layers.size(), 1u);
  EXPECT_EQ(image->layers[0].digest, common::Digest::Of(layer));
  EXPECT_EQ(image->layers[0].diff_id.hash(), common::Digest::Of(layer).hash());
  EXPECT_EQ(image->layers[0].path, "");  // nothing on disk to import
  // The layer's blob now holds other bytes of the same length.
  std::ofstream(dir + "/blobs/sha256/" + common::Digest::Of(layer).hash(),
                std::ios::binary)
      << "tar bytez";
  image = read();
  EXPECT_EQ(image.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(image.status().message(),
            "layer 0 blob sha256:" + common::Digest::Of(layer).hash() +
                " (9 bytes) does not match its digest");
  // A layout without the blob names the tree by its label.
  unlink((dir + "/blobs/sha256/" + common::Digest::Of(layer).hash()).c_str());
  image = read();
  EXPECT_EQ(image.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(image.status().message(),
            "layer 0 sha256:" + common::Digest::Of(layer).hash() +
                " is missing from /client/layout");
}

}  // namespace
}  // namespace pbrx::cache
