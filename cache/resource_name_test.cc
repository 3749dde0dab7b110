#include "cache/resource_name.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::cache {
namespace {

using ::testing::HasSubstr;

const std::string kHash = common::Digest::Of("x").hash();

TEST(ResourceNameTest, ReadWithEmptySingleAndMultiSegmentInstances) {
  for (std::string instance : {"", "main", "a/b/c"}) {
    std::string prefix = instance.empty() ? "" : instance + "/";
    auto r = ParseReadResourceName(absl::StrCat(prefix, "blobs/", kHash, "/1"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->instance_name, instance);
    EXPECT_EQ(r->digest, common::Digest::Of("x"));
  }
  auto with_file =
      ParseReadResourceName(absl::StrCat("blobs/", kHash, "/1/some/file.txt"));
  ASSERT_TRUE(with_file.ok());
  EXPECT_EQ(with_file->digest.size(), 1);
}

TEST(ResourceNameTest, WriteParsesUploadId) {
  auto r = ParseWriteResourceName(
      absl::StrCat("x/y/uploads/1234-abcd/blobs/", kHash, "/1/f"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->instance_name, "x/y");
  EXPECT_EQ(r->upload_id, "1234-abcd");
  EXPECT_EQ(r->digest.size(), 1);
}

struct Bad {
  bool write;
  std::string name;
  absl::StatusCode code;
  std::string message;
};

class ResourceNameErrorTest : public ::testing::TestWithParam<Bad> {};

TEST_P(ResourceNameErrorTest, Rejects) {
  const Bad& b = GetParam();
  auto r =
      b.write ? ParseWriteResourceName(b.name) : ParseReadResourceName(b.name);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), b.code) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(b.message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ResourceNameErrorTest,
    ::testing::Values(
        Bad{false, "nothing/here", absl::StatusCode::kInvalidArgument,
            "not of the form {instance}/blobs/{hash}/{size}"},
        Bad{false, "blobs/" + kHash, absl::StatusCode::kInvalidArgument,
            "ends before blobs/{hash}/{size}"},
        Bad{false, "blobs/abc/1", absl::StatusCode::kInvalidArgument,
            "64 lowercase hex characters"},
        Bad{false, "blobs/" + kHash + "/-4", absl::StatusCode::kInvalidArgument,
            "non-negative decimal integer"},
        Bad{false, "a//b/blobs/" + kHash + "/1",
            absl::StatusCode::kInvalidArgument, "empty, '.' or '..' segment"},
        Bad{false, "../blobs/" + kHash + "/1",
            absl::StatusCode::kInvalidArgument, "empty, '.' or '..' segment"},
        Bad{false, "inst/compressed-blobs/zstd/" + kHash + "/1",
            absl::StatusCode::kUnimplemented,
            "compressed blobs are not supported"},
        Bad{true, "blobs/" + kHash + "/1", absl::StatusCode::kInvalidArgument,
            "{instance}/uploads/{uuid}/blobs/{hash}/{size}"},
        Bad{true, "uploads//blobs/" + kHash + "/1",
            absl::StatusCode::kInvalidArgument, "lacks uploads/{uuid}/blobs"},
        Bad{true, "uploads/u1/blubs/" + kHash + "/1",
            absl::StatusCode::kInvalidArgument,
            "expected 'blobs' after the upload id, got 'blubs'"},
        Bad{true, "actions/uploads/u/blobs/" + kHash + "/1",
            absl::StatusCode::kInvalidArgument, "reserved word 'actions'"},
        Bad{true, "uploads/u/compressed-blobs/zstd/" + kHash + "/1",
            absl::StatusCode::kUnimplemented, "compressed blobs"}));

TEST(ResourceNameTest, InstanceNameValidation) {
  EXPECT_TRUE(ValidateInstanceName("").ok());
  EXPECT_TRUE(ValidateInstanceName("a/b-c/d_e").ok());
  EXPECT_EQ(ValidateInstanceName("a/blobs").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateInstanceName("/a").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateInstanceName("a/").code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pbrx::cache
