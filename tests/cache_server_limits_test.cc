// pbrx-cache against requests that would make it mix up or reserve more
// than they carry: Action Cache entries per instance name (tenants), a
// batch blob claiming more bytes than it has; and peers that hold more
// streams than the server has threads for, or ping too often.
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

TEST_F(CacheServerTest, StreamsBeyondTheThreadCapAreRefusedAndTheServerLives) {
  // Each open ByteStream upload holds a server thread while it waits for
  // its next chunk. With --max-threads=16 (room for 12 such streams, the
  // rest kept for short calls), 40 clients holding uploads open: the
  // excess is answered RESOURCE_EXHAUSTED naming the bound (never a crash,
  // never a thread per request beyond the cap), short calls still work
  // meanwhile, and once the uploads go the server takes them again.
  server_->Stop(SIGTERM, absl::Seconds(10)).IgnoreError();
  StartServer({"--max-threads=16"});
  struct Open {
    std::unique_ptr<grpc::ClientContext> ctx;
    bs::WriteResponse response;
    std::unique_ptr<grpc::ClientWriter<bs::WriteRequest>> writer;
  };
  std::vector<Open> open(40);
  const std::string data = Pattern(1 << 20, 7);
  const Digest d = Digest::Of(data);
  for (size_t i = 0; i < open.size(); ++i) {
    // A channel of its own each: one connection per client.
    grpc::ChannelArguments args;
    args.SetInt("pbrx.test.client", static_cast<int>(i));
    auto channel = grpc::CreateCustomChannel(
        address_, grpc::InsecureChannelCredentials(), args);
    auto stub = bs::ByteStream::NewStub(channel);
    open[i].ctx = std::make_unique<grpc::ClientContext>();
    open[i].ctx->set_deadline(std::chrono::system_clock::now() +
                              std::chrono::seconds(60));
    open[i].writer = stub->Write(open[i].ctx.get(), &open[i].response);
    bs::WriteRequest first;
    first.set_resource_name(WriteName(d, absl::StrCat("held-", i)));
    first.set_data(data.substr(0, 1000));
    open[i].writer->Write(first);
  }
  // The uploads that got a thread are waiting; the others were refused:
  // finishing them shows which. Meanwhile a short call is answered.
  absl::SleepFor(absl::Seconds(1));
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    re::GetCapabilitiesRequest req;
    re::ServerCapabilities caps;
    EXPECT_TRUE(caps_->GetCapabilities(&ctx, req, &caps).ok())
        << "a short call starved while streams were held";
  }
  // Ending each upload: the refused ones carry the server's refusal, the
  // held ones end as incomplete uploads.
  int exhausted = 0, held = 0;
  std::string message;
  for (Open& o : open) {
    o.writer->WritesDone();
    grpc::Status st = o.writer->Finish();
    if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++exhausted;
      message = st.error_message();
    } else {
      ++held;
    }
  }
  EXPECT_EQ(exhausted, 28) << message;
  EXPECT_EQ(held, 12);
  EXPECT_EQ(message,
            "ByteStream.Write: 12 streams already open on this server "
            "(--max-threads leaves room for 12)");
  // The server still serves, and a whole upload goes through.
  ASSERT_TRUE(Upload(WriteName(d), data).ok());
  std::string back;
  ASSERT_TRUE(Download(ReadName(d), &back).ok());
  EXPECT_TRUE(back == data);
  grpc::ClientContext ctx;
  re::GetCapabilitiesRequest req;
  re::ServerCapabilities caps;
  EXPECT_TRUE(caps_->GetCapabilities(&ctx, req, &caps).ok());
}

TEST_F(CacheServerTest, APeerThatPingsTooOftenIsDisconnected) {
  // Keepalive enforcement (--min-ping-interval, 20 s by default): a client
  // pinging as often as it can while the server sends it nothing is sent away
  // (GOAWAY too_many_pings: its held upload fails UNAVAILABLE); a client
  // pinging as pbrx's own do is not, and the server goes on serving.
  grpc::ChannelArguments rude;
  rude.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 200);
  rude.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  rude.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  rude.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS, 100);
  auto rude_channel = grpc::CreateCustomChannel(
      address_, grpc::InsecureChannelCredentials(), rude);
  auto rude_stub = bs::ByteStream::NewStub(rude_channel);
  const std::string data = Pattern(4096, 3);
  const Digest d = Digest::Of(data);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(75));
  bs::WriteResponse response;
  auto writer = rude_stub->Write(&ctx, &response);
  bs::WriteRequest first;
  first.set_resource_name(WriteName(d, "rude"));
  first.set_data(data.substr(0, 100));
  ASSERT_TRUE(writer->Write(first));
  // gRPC 1.51's client sends a keepalive ping at most every ~5 s: the
  // third within 20 s of another is the strike that ends the connection
  // (GOAWAY, ~15 s in). On a loaded machine the pings come later: wait
  // until the connection is gone, at most 60 s.
  absl::SleepFor(absl::Seconds(15));
  for (int i = 0; i < 90 && rude_channel->GetState(false) == GRPC_CHANNEL_READY;
       ++i) {
    absl::SleepFor(absl::Milliseconds(500));
  }
  bs::WriteRequest rest;
  rest.set_write_offset(100);
  rest.set_data(data.substr(100));
  rest.set_finish_write(true);
  writer->Write(rest);
  writer->WritesDone();
  grpc::Status st = writer->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE)
      << st.error_message();
  // The polite fixture channel (no pings at all) uploads the same blob.
  ASSERT_TRUE(Upload(WriteName(d), data).ok());
  std::string back;
  ASSERT_TRUE(Download(ReadName(d), &back).ok());
  EXPECT_EQ(back, data);
}

TEST_F(CacheServerTest, OneHostsIdleUploadsPushOutOnlyItsOwnOldest) {
  // Uploads interrupted before finish_write stay open to be resumed; one
  // host may keep 16 of them: its 20 interrupted uploads leave its last
  // 16 resumable (QueryWriteStatus answers their committed bytes) and the
  // first 4 gone (NOT_FOUND).
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) {
    const std::string data = Pattern(1000, 100 + i);
    names.push_back(WriteName(Digest::Of(data), absl::StrCat("idle-", i)));
    grpc::Status st = Upload(names.back(), data.substr(0, 400), nullptr, 0,
                             /*finish=*/false);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(st.error_message(),
                HasSubstr("ended without finish_write after 400 bytes"));
  }
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext ctx;
    bs::QueryWriteStatusRequest req;
    req.set_resource_name(names[i]);
    bs::QueryWriteStatusResponse resp;
    grpc::Status st = bytestream_->QueryWriteStatus(&ctx, req, &resp);
    if (i < 4) {
      EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << i;
    } else {
      ASSERT_TRUE(st.ok()) << i << ": " << st.error_message();
      EXPECT_EQ(resp.committed_size(), 400) << i;
    }
  }
}

TEST_F(CacheServerTest, GetTreeIsBoundedInDirectoriesAndPageBytes) {
  // A chain of 6 directories, each about 1 MiB (many file entries): with
  // --max-tree-directories=5 it is refused naming the bound; with 6 it is
  // streamed in pages of at most 2 MiB each, whatever page size is asked.
  server_->Stop(SIGTERM, absl::Seconds(10)).IgnoreError();
  StartServer({"--max-tree-directories=5"});
  std::vector<std::string> blobs;
  Digest child = Digest::Empty();
  for (int level = 0; level < 6; ++level) {
    re::Directory dir;
    for (int i = 0; i < 9000; ++i) {
      auto* f = dir.add_files();
      f->set_name(absl::StrCat("file-", level, "-", i, "-padding-padding"));
      *f->mutable_digest() = Digest::Of(absl::StrCat(level, ":", i)).ToProto();
    }
    if (level > 0) {
      auto* d = dir.add_directories();
      d->set_name("down");
      *d->mutable_digest() = child.ToProto();
    }
    blobs.push_back(dir.SerializeAsString());
    child = Digest::Of(blobs.back());
    ASSERT_TRUE(
        Upload(WriteName(child, absl::StrCat("tree-", level)), blobs.back())
            .ok());
  }
  ASSERT_GT(blobs.back().size(), 700u << 10);
  auto get_tree = [&](int64_t* pages, int64_t* dirs, int64_t* biggest) {
    grpc::ClientContext ctx;
    re::GetTreeRequest req;
    *req.mutable_root_digest() = child.ToProto();
    req.set_page_size(1000);
    auto reader = cas_->GetTree(&ctx, req);
    re::GetTreeResponse page;
    *pages = *dirs = *biggest = 0;
    while (reader->Read(&page)) {
      ++*pages;
      *dirs += page.directories_size();
      *biggest = std::max<int64_t>(*biggest, page.ByteSizeLong());
    }
    return reader->Finish();
  };
  int64_t pages, dirs, biggest;
  grpc::Status st = get_tree(&pages, &dirs, &biggest);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(),
            "the tree rooted at " + child.ToString() +
                " has more than 5 directories (--max-tree-directories)");
  server_->Stop(SIGTERM, absl::Seconds(10)).IgnoreError();
  StartServer({"--max-tree-directories=6"});
  st = get_tree(&pages, &dirs, &biggest);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(dirs, 6);
  EXPECT_GE(pages, 3);
  EXPECT_LE(biggest, 2 << 20);
}

}  // namespace
}  // namespace pbrx::cache_test
