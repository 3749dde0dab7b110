// pbrx-cache against requests that would make it mix up or reserve more
// than they carry: Action Cache entries per instance name (tenants), a
// batch blob claiming more bytes than it has.
#include "tests/cache_server_fixture.h"

namespace pbrx::cache_test {
namespace {

TEST_F(CacheServerTest, ActionCacheEntriesAreKeptPerInstanceName) {
  Digest action = Digest::Of("tenant action");
  ASSERT_TRUE(Upload(WriteName(Digest::Of("a")), "a").ok());
  ASSERT_TRUE(Upload(WriteName(Digest::Of("b")), "b").ok());
  auto update = [&](const std::string& instance, const std::string& output) {
    re::UpdateActionResultRequest up;
    up.set_instance_name(instance);
    *up.mutable_action_digest() = action.ToProto();
    auto* f = up.mutable_action_result()->add_output_files();
    f->set_path("out");
    *f->mutable_digest() = Digest::Of(output).ToProto();
    grpc::ClientContext ctx;
    re::ActionResult got;
    return ac_->UpdateActionResult(&ctx, up, &got);
  };
  auto get = [&](const std::string& instance, re::ActionResult* got) {
    re::GetActionResultRequest req;
    req.set_instance_name(instance);
    *req.mutable_action_digest() = action.ToProto();
    grpc::ClientContext ctx;
    return ac_->GetActionResult(&ctx, req, got);
  };
  ASSERT_TRUE(update("team-a", "a").ok());
  re::ActionResult got;
  ASSERT_TRUE(get("team-a", &got).ok());
  EXPECT_EQ(got.output_files(0).digest().hash(), Digest::Of("a").hash());
  // Another tenant, and the default instance, see nothing of it...
  EXPECT_EQ(get("team-b", &got).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(get("", &got).error_code(), grpc::StatusCode::NOT_FOUND);
  // ...and what team-b writes for the same action does not replace it.
  ASSERT_TRUE(update("team-b", "b").ok());
  ASSERT_TRUE(get("team-a", &got).ok());
  EXPECT_EQ(got.output_files(0).digest().hash(), Digest::Of("a").hash());
  ASSERT_TRUE(get("team-b", &got).ok());
  EXPECT_EQ(got.output_files(0).digest().hash(), Digest::Of("b").hash());
}

TEST_F(CacheServerTest,
       ABatchBlobClaimingMoreBytesThanItCarriesReservesNothing) {
  // 10 bytes of data for a digest of 1 TiB, on a cache of 1 MiB: refused
  // before any space is claimed, so nothing already stored is evicted.
  server_->Stop(SIGTERM, absl::Seconds(10)).IgnoreError();
  StartServer({"--max-size=1M", "--min-age=0s"});
  ASSERT_TRUE(Upload(WriteName(Digest::Of("kept")), "kept").ok());
  grpc::ClientContext ctx;
  re::BatchUpdateBlobsRequest up;
  auto* r = up.add_requests();
  r->mutable_digest()->set_hash(Digest::Of("ten bytes!").hash());
  r->mutable_digest()->set_size_bytes(int64_t{1} << 40);
  r->set_data("ten bytes!");
  re::BatchUpdateBlobsResponse upr;
  ASSERT_TRUE(cas_->BatchUpdateBlobs(&ctx, up, &upr).ok());
  EXPECT_EQ(upr.responses(0).status().code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(upr.responses(0).status().message(),
            "requests[0]: 10 bytes of data for a digest of 1099511627776");
  std::string back;
  ASSERT_TRUE(Download(ReadName(Digest::Of("kept")), &back).ok());
  EXPECT_EQ(back, "kept");
}

}  // namespace
}  // namespace pbrx::cache_test
