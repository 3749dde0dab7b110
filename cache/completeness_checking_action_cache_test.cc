#include "cache/completeness_checking_action_cache.h"

#include "cache/in_memory_action_cache.h"
#include "cache/in_memory_blob_store.h"
#include "common/missing_blobs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::cache {
namespace {

using build::bazel::remote::execution::v2::Directory;
using build::bazel::remote::execution::v2::Tree;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class CompletenessTest : public ::testing::Test {
 protected:
  CompletenessTest() : cache_(&inner_, &cas_) {}

  Digest Put(const std::string& content) { return *WriteBlob(cas_, content); }

  // A result with one output file, stdout, and a directory whose tree holds
  // one file at the root and one in a child.
  ActionResult FullResult() {
    ActionResult r;
    auto* f = r.add_output_files();
    f->set_path("a.o");
    *f->mutable_digest() = Put("object").ToProto();
    *r.mutable_stdout_digest() = Put("stdout text").ToProto();
    Tree tree;
    auto* rf = tree.mutable_root()->add_files();
    rf->set_name("root.txt");
    *rf->mutable_digest() = Put("root file").ToProto();
    Directory child;
    auto* cf = child.add_files();
    cf->set_name("deep.txt");
    *cf->mutable_digest() = Put("deep file").ToProto();
    *tree.add_children() = child;
    auto* d = r.add_output_directories();
    d->set_path("outdir");
    *d->mutable_tree_digest() = Put(tree.SerializeAsString()).ToProto();
    return r;
  }

  InMemoryBlobStore cas_;
  InMemoryActionCache inner_;
  CompletenessCheckingActionCache cache_;
  Digest action_ = Digest::Of("the action");
};

TEST_F(CompletenessTest, CompleteResultIsAHit) {
  ASSERT_TRUE(cache_.Update(action_, FullResult()).ok());
  auto r = cache_.Get(action_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->output_files(0).path(), "a.o");
}

TEST_F(CompletenessTest, ReferencedBlobsIncludeTreeContents) {
  ActionResult r = FullResult();
  auto refs = ReferencedBlobs(r, cas_);
  ASSERT_TRUE(refs.ok());
  EXPECT_THAT(
      *refs,
      UnorderedElementsAre(
          Digest::Of("object"), Digest::Of("stdout text"),
          Digest::FromProto(r.output_directories(0).tree_digest()).value(),
          Digest::Of("root file"), Digest::Of("deep file")));
}

TEST_F(CompletenessTest, MissingFileInsideTreeMakesAMissAndDropsTheEntry) {
  ASSERT_TRUE(cache_.Update(action_, FullResult()).ok());
  ASSERT_TRUE(cas_.Delete(Digest::Of("deep file")).ok());
  auto r = cache_.Get(action_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("1 referenced blob(s) no longer stored"));
  EXPECT_EQ(inner_.Get(action_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CompletenessTest, MissingTreeBlobMakesAMiss) {
  ActionResult full = FullResult();
  ASSERT_TRUE(cache_.Update(action_, full).ok());
  ASSERT_TRUE(
      cas_.Delete(*Digest::FromProto(full.output_directories(0).tree_digest()))
          .ok());
  EXPECT_EQ(cache_.Get(action_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CompletenessTest,
       UpdateWithMissingBlobsIsFailedPreconditionWithDetails) {
  ActionResult r;
  auto* f = r.add_output_files();
  f->set_path("gone.o");
  Digest gone = Digest::Of("never uploaded");
  *f->mutable_digest() = gone.ToProto();
  absl::Status s = cache_.Update(action_, r);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("1 blob(s) missing from the CAS: " + gone.ToString()));
  EXPECT_THAT(common::MissingBlobsOf(s), ElementsAre(gone));
  EXPECT_EQ(inner_.Get(action_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CompletenessTest, MalformedDigestInResultIsInvalidArgument) {
  ActionResult r;
  auto* f = r.add_output_files();
  f->set_path("bad.o");
  f->mutable_digest()->set_hash("nothex");
  absl::Status s = cache_.Update(action_, r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("output file bad.o"));
}

}  // namespace
}  // namespace pbrx::cache
