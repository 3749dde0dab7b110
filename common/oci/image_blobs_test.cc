#include "common/oci/image_blobs.h"

#include "gtest/gtest.h"

namespace pbrx::common::oci {
namespace {

TEST(ImageBlobsTest, CompactJsonInAFixedOrder) {
  Layer l;
  l.digest = Digest::Of("layer");
  l.diff_id = Digest::Of("tar");
  ImageConfig c;
  c.created = 86400;
  c.cmd = {"/usr/bin/app"};
  c.env = {"LANG=C.UTF-8"};
  c.working_dir = "/";
  c.labels = {{"b", "2"}, {"a", "1"}};
  ImageBlobs b = MakeImageBlobs({l}, c);
  EXPECT_EQ(b.config,
            "{\"created\":\"1970-01-02T00:00:00Z\",\"architecture\":\"amd64\","
            "\"os\":\"linux\",\"config\":{\"Env\":[\"LANG=C.UTF-8\"],\"Cmd\":"
            "[\"/usr/bin/app\"],\"WorkingDir\":\"/\",\"Labels\":{\"a\":\"1\","
            "\"b\":\"2\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" +
                DigestString(l.diff_id) + "\"]}}");
  EXPECT_EQ(b.manifest,
            "{\"schemaVersion\":2,\"mediaType\":\"application/"
            "vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
            "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" +
                DigestString(Digest::Of(b.config)) +
                "\",\"size\":" + std::to_string(b.config.size()) +
                "},\"layers\":[{\"mediaType\":\"application/"
                "vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" +
                DigestString(l.digest) + "\",\"size\":5}]}");
  EXPECT_EQ(b.descriptor.config, Digest::Of(b.config));
  EXPECT_EQ(b.descriptor.manifest, Digest::Of(b.manifest));
  EXPECT_EQ(b.descriptor.size,
            static_cast<int64_t>(b.config.size() + b.manifest.size() + 5));
  // Equal inputs, equal bytes.
  EXPECT_EQ(MakeImageBlobs({l}, c).manifest, b.manifest);
}

}  // namespace
}  // namespace pbrx::common::oci
