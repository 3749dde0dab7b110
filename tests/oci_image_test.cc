// Layers and OCI layouts checked with the real tools: a real overlayfs mount
// produces the upper dir whose whiteouts and opaque dirs we capture, and
// skopeo and umoci read the resulting layout.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/oci/image_layout.h"
#include "common/oci/layer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx {
namespace {

using common::oci::ImageConfig;
using common::oci::Layer;
using common::oci::LayerOptions;
using common::oci::OciLayout;
using ::testing::HasSubstr;
using ::testing::Not;

// Runs a shell command; returns exit status and output.
int Sh(const std::string& cmd, std::string* out = nullptr) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen((cmd + " 2>&1").c_str(), "r"),
                                          pclose);
  std::string text;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p.get())) > 0)
    text.append(buf.data(), n);
  int status = pclose(p.release());
  if (out != nullptr) *out = text;
  return WEXITSTATUS(status);
}

void WriteFile(const std::string& path, const std::string& content,
               mode_t mode = 0644) {
  std::ofstream(path) << content;
  chmod(path.c_str(), mode);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A small root filesystem tree.
std::string MakeTree(const std::string& base) {
  std::string root = base + "/tree";
  for (const char* d : {"", "/bin", "/etc", "/etc/app", "/etc/old", "/empty",
                        "/var", "/var/log"}) {
    mkdir((root + d).c_str(), 0755);
  }
  WriteFile(root + "/bin/tool", "#!/bin/sh\necho tool\n", 0755);
  WriteFile(root + "/etc/app/app.conf", "setting=1\n");
  WriteFile(root + "/etc/old/a", "a\n");
  WriteFile(root + "/etc/old/b", "b\n");
  WriteFile(root + "/etc/gone", "to be deleted\n");
  WriteFile(root + "/var/log/noise.log", "noise\n");
  WriteFile(root + "/etc/caf\xc3\xa9", "unicode name\n");
  symlink("../bin/tool", (root + "/etc/tool-link").c_str());
  return root;
}

TEST(OciLayerTest, SameTreeSameDigestsAndMtimeMatters) {
  std::string base = testing_util::NewTempDir("layer");
  std::string root = MakeTree(base);
  LayerOptions o;
  o.mtime = 1700000000;
  auto a = common::oci::WriteLayer(root, base + "/a.tar.gz", o);
  ASSERT_TRUE(a.ok()) << a.status();
  // Touch every file: timestamps must not matter.
  ASSERT_EQ(Sh("find " + root + " -exec touch -h -d '2001-01-01' {} +"), 0);
  auto b = common::oci::WriteLayer(root, base + "/b.tar.gz", o);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->digest, b->digest);
  EXPECT_EQ(a->diff_id, b->diff_id);
  EXPECT_EQ(a->entries, 15);  // 7 dirs, 7 files, 1 symlink
  o.mtime = 0;
  auto c = common::oci::WriteLayer(root, base + "/c.tar.gz", o);
  EXPECT_NE(c->diff_id, a->diff_id);
  // The tar lists entries sorted, owned by 0:0, with the fixed mtime.
  std::string listing;
  ASSERT_EQ(Sh("tar --numeric-owner --full-time -tvzf " + base + "/a.tar.gz",
               &listing),
            0);
  EXPECT_THAT(
      listing,
      HasSubstr("-rwxr-xr-x 0/0              20 2023-11-14 22:13:20 bin/tool"));
  EXPECT_THAT(listing,
              HasSubstr("lrwxrwxrwx 0/0               0 2023-11-14 22:13:20 "
                        "etc/tool-link -> ../bin/tool"));
  // gzip header has no timestamp and no name.
  std::string head;
  ASSERT_EQ(Sh("od -A n -t x1 -N 10 " + base + "/a.tar.gz", &head), 0);
  EXPECT_THAT(head, HasSubstr("1f 8b 08 00 00 00 00 00 00 03"));
}

TEST(OciLayerTest, ExcludesAndBadInput) {
  std::string base = testing_util::NewTempDir("layer");
  std::string root = MakeTree(base);
  LayerOptions o;
  o.exclude_prefixes = {"var/log/", "etc/old"};
  auto l = common::oci::WriteLayer(root, base + "/l.tar.gz", o);
  ASSERT_TRUE(l.ok());
  std::string listing;
  Sh("tar -tzf " + base + "/l.tar.gz", &listing);
  EXPECT_THAT(listing, HasSubstr("var/log/\n"));
  EXPECT_THAT(listing, Not(HasSubstr("noise.log")));
  EXPECT_THAT(listing, Not(HasSubstr("etc/old")));
  mkfifo((root + "/bin/fifo").c_str(), 0644);
  auto bad =
      common::oci::WriteLayer(root, base + "/bad.tar.gz", LayerOptions{});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(bad.status().message()),
            "bin/fifo: sockets, FIFOs and device files cannot go into a layer");
  EXPECT_NE(access((base + "/bad.tar.gz").c_str(), F_OK),
            0);  // nothing half-written
  EXPECT_NE(access((base + "/bad.tar.gz.tmp.gz").c_str(), F_OK), 0);
}

TEST(OciImageTest, OverlayCaptureReadBySkopeoAndUmoci) {
  std::string base = testing_util::NewTempDir("img");
  std::string lower = MakeTree(base);
  std::string upper = base + "/upper", work = base + "/work",
              merged = base + "/merged";
  for (const std::string& d : {upper, work, merged}) mkdir(d.c_str(), 0755);
  std::string opts =
      absl::StrCat("lowerdir=", lower, ",upperdir=", upper, ",workdir=", work,
                   ",redirect_dir=off,metacopy=off,index=off");
  ASSERT_EQ(mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()), 0)
      << "mount overlay: " << std::strerror(errno);
  // Changes made through the real overlay: a deletion, a replaced directory
  // (opaque), a new file, a changed file.
  ASSERT_EQ(unlink((merged + "/etc/gone").c_str()), 0);
  ASSERT_EQ(Sh("rm -rf " + merged + "/etc/old && mkdir " + merged +
               "/etc/old && echo new > " + merged + "/etc/old/c"),
            0);
  WriteFile(merged + "/etc/added", "added\n");
  WriteFile(merged + "/etc/app/app.conf", "setting=2\n");
  ASSERT_EQ(umount(merged.c_str()), 0);

  LayerOptions lo;
  lo.mtime = 1700000000;
  auto l1 = common::oci::WriteLayer(lower, base + "/l1.tar.gz", lo);
  ASSERT_TRUE(l1.ok()) << l1.status();
  lo.overlay_upper = true;
  auto l2 = common::oci::WriteLayer(upper, base + "/l2.tar.gz", lo);
  ASSERT_TRUE(l2.ok()) << l2.status();
  std::string listing;
  Sh("tar -tzf " + base + "/l2.tar.gz", &listing);
  EXPECT_THAT(listing, HasSubstr("etc/.wh.gone\n"));
  EXPECT_THAT(listing, HasSubstr("etc/old/.wh..wh..opq\n"));

  std::string dir = base + "/layout";
  auto layout = OciLayout::Open(dir);
  ASSERT_TRUE(layout.ok()) << layout.status();
  ASSERT_TRUE(layout->AddBlobFile(l1->path, l1->digest).ok());
  ASSERT_TRUE(layout->AddBlobFile(l2->path, l2->digest).ok());
  ImageConfig config;
  config.created = 1700000000;
  config.cmd = {"/bin/tool", "--help"};
  config.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"};
  config.working_dir = "/";
  config.labels = {{"org.opencontainers.image.version", "1.0"}};
  auto img = layout->WriteImage({*l1, *l2}, config, {"app:latest", "app:v1"});
  ASSERT_TRUE(img.ok()) << img.status();

  std::string out;
  ASSERT_EQ(Sh("skopeo inspect oci:" + dir + ":app:latest", &out), 0) << out;
  EXPECT_THAT(out,
              HasSubstr("\"Digest\": \"sha256:" + img->manifest.hash() + "\""));
  EXPECT_THAT(out, HasSubstr("\"org.opencontainers.image.version\": \"1.0\""));
  ASSERT_EQ(Sh("skopeo inspect --config oci:" + dir + ":app:v1", &out), 0)
      << out;
  EXPECT_THAT(
      out,
      HasSubstr(
          "\"Cmd\": [\n            \"/bin/tool\",\n            \"--help\""));
  EXPECT_THAT(out, HasSubstr("sha256:" + l2->diff_id.hash()));

  std::string bundle = base + "/bundle";
  ASSERT_EQ(Sh("umoci unpack --image " + dir + ":app:latest " + bundle, &out),
            0)
      << out;
  std::string rootfs = bundle + "/rootfs";
  EXPECT_EQ(ReadFile(rootfs + "/etc/app/app.conf"), "setting=2\n");
  EXPECT_EQ(ReadFile(rootfs + "/etc/added"), "added\n");
  EXPECT_NE(access((rootfs + "/etc/gone").c_str(), F_OK), 0);
  EXPECT_NE(access((rootfs + "/etc/old/a").c_str(), F_OK), 0);
  EXPECT_EQ(ReadFile(rootfs + "/etc/old/c"), "new\n");
  EXPECT_EQ(ReadFile(rootfs + "/etc/tool-link"), "#!/bin/sh\necho tool\n");
  struct stat st;
  ASSERT_EQ(stat((rootfs + "/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);

  // A second image in the same layout keeps the first one's refs.
  auto other = layout->WriteImage({*l1}, ImageConfig{}, {"other:latest"});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Sh("skopeo inspect oci:" + dir + ":app:v1", &out), 0) << out;
  EXPECT_EQ(Sh("skopeo inspect oci:" + dir + ":other:latest", &out), 0) << out;
  // Rewriting the same image gives the same manifest digest.
  auto again = layout->WriteImage({*l1, *l2}, config, {"app:latest"});
  EXPECT_EQ(again->manifest, img->manifest);
}

TEST(OciImageTest, IndexJsonIsTheSameBytesForTheSameRefs) {
  // Entries kept from an earlier index.json are written again with sorted
  // keys, as new ones are: no map order leaks into the file.
  std::string dir = testing_util::NewTempDir("index");
  auto layout = OciLayout::Open(dir);
  ASSERT_TRUE(layout.ok()) << layout.status();
  auto a = layout->AddBlob(R"({"schemaVersion":2,"n":"a"})");
  auto b = layout->AddBlob(R"({"schemaVersion":2,"n":"b"})");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(layout->Tag(*a, {"x:1", "x:2"}).ok());
  ASSERT_TRUE(layout->Tag(*b, {"y:1"}).ok());
  auto entry = [](const common::Digest& d, const std::string& ref) {
    return absl::StrCat(
        R"({"annotations":{"org.opencontainers.image.ref.name":")", ref,
        R"("},"digest":"sha256:)", d.hash(),
        R"(","mediaType":"application/vnd.oci.image.manifest.v1+json",)",
        R"("size":)", d.size(), "}");
  };
  EXPECT_EQ(ReadFile(dir + "/index.json"),
            absl::StrCat(R"({"schemaVersion":2,"mediaType":)",
                         R"("application/vnd.oci.image.index.v1+json",)",
                         R"("manifests":[)", entry(*a, "x:1"), ",",
                         entry(*a, "x:2"), ",", entry(*b, "y:1"), "]}"));
}

TEST(OciImageTest, RefusesANonLayoutDirectory) {
  std::string dir = testing_util::NewTempDir("notlayout");
  WriteFile(dir + "/file", "x");
  auto layout = OciLayout::Open(dir);
  EXPECT_EQ(layout.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace pbrx
