// Integration tests of the real pbrx-cache binary over gRPC on loopback:
// every REAPI service, precise error codes for bad requests, upload
// resumption, metrics, graceful shutdown and kill -9 crash safety.
#include "tests/cache_server_fixture.h"

namespace pbrx::cache_test {
namespace {

TEST_F(CacheServerTest, CapabilitiesForAnyValidInstance) {
  for (std::string instance : {"", "main", "a/b/c"}) {
    grpc::ClientContext ctx;
    re::GetCapabilitiesRequest req;
    req.set_instance_name(instance);
    re::ServerCapabilities caps;
    ASSERT_TRUE(caps_->GetCapabilities(&ctx, req, &caps).ok());
    EXPECT_THAT(caps.cache_capabilities().digest_function(),
                ElementsAre(re::DigestFunction::SHA256));
    EXPECT_TRUE(caps.cache_capabilities()
                    .action_cache_update_capabilities()
                    .update_enabled());
    EXPECT_EQ(caps.cache_capabilities().max_batch_total_size_bytes(), 4 << 20);
    EXPECT_EQ(caps.low_api_version().major(), 2);
    EXPECT_EQ(caps.low_api_version().minor(), 0);
    EXPECT_EQ(caps.high_api_version().major(), 2);
  }
  grpc::ClientContext ctx;
  re::GetCapabilitiesRequest req;
  req.set_instance_name("x/uploads");
  re::ServerCapabilities caps;
  grpc::Status s = caps_->GetCapabilities(&ctx, req, &caps);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("reserved word 'uploads'"));
}

TEST_F(CacheServerTest, FindMissingBlobsAndMalformedDigests) {
  grpc::ClientContext ctx;
  re::FindMissingBlobsRequest req;
  *req.add_blob_digests() = Digest::Empty().ToProto();
  Digest absent = Digest::Of("absent");
  *req.add_blob_digests() = absent.ToProto();
  re::FindMissingBlobsResponse resp;
  ASSERT_TRUE(cas_->FindMissingBlobs(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.missing_blob_digests_size(), 1);
  EXPECT_EQ(resp.missing_blob_digests(0).hash(), absent.hash());

  grpc::ClientContext ctx2;
  req.add_blob_digests()->set_hash("XYZ");
  grpc::Status s = cas_->FindMissingBlobs(&ctx2, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("blob_digests[2]"));

  grpc::ClientContext ctx3;
  re::FindMissingBlobsRequest neg;
  auto* d = neg.add_blob_digests();
  d->set_hash(absent.hash());
  d->set_size_bytes(-5);
  s = cas_->FindMissingBlobs(&ctx3, neg, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("size must be >= 0, got -5"));
}

TEST_F(CacheServerTest, BatchUpdateAndReadWithPerBlobStatuses) {
  grpc::ClientContext ctx;
  re::BatchUpdateBlobsRequest up;
  Digest good = Digest::Of("good blob");
  auto* r1 = up.add_requests();
  *r1->mutable_digest() = good.ToProto();
  r1->set_data("good blob");
  auto* r2 = up.add_requests();
  *r2->mutable_digest() = Digest::Of("claimed").ToProto();
  r2->set_data("claimeX");  // right size, wrong hash
  auto* r3 = up.add_requests();
  *r3->mutable_digest() = Digest::Of("sized").ToProto();
  r3->set_data("sized but longer");  // wrong size
  re::BatchUpdateBlobsResponse upr;
  ASSERT_TRUE(cas_->BatchUpdateBlobs(&ctx, up, &upr).ok());
  ASSERT_EQ(upr.responses_size(), 3);
  EXPECT_EQ(upr.responses(0).status().code(), 0);
  EXPECT_EQ(upr.responses(1).status().code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(upr.responses(1).status().message(),
              HasSubstr("not to the digest's"));
  EXPECT_EQ(upr.responses(2).status().code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(upr.responses(2).status().message(),
            "requests[2]: 16 bytes of data for a digest of 5");

  // A blob already stored: OK without a second write, but data of the
  // wrong size for it is still refused.
  grpc::ClientContext again_ctx;
  re::BatchUpdateBlobsRequest again;
  auto* a1 = again.add_requests();
  *a1->mutable_digest() = good.ToProto();
  a1->set_data("good blob");
  auto* a2 = again.add_requests();
  *a2->mutable_digest() = good.ToProto();
  a2->set_data("good blob, longer");
  re::BatchUpdateBlobsResponse againr;
  ASSERT_TRUE(cas_->BatchUpdateBlobs(&again_ctx, again, &againr).ok());
  ASSERT_EQ(againr.responses_size(), 2);
  EXPECT_EQ(againr.responses(0).status().code(), 0);
  EXPECT_EQ(againr.responses(1).status().message(),
            "requests[1]: 17 bytes of data for a digest of 9");

  grpc::ClientContext ctx2;
  re::BatchReadBlobsRequest rd;
  *rd.add_digests() = good.ToProto();
  *rd.add_digests() = Digest::Of("claimed").ToProto();
  re::BatchReadBlobsResponse rdr;
  ASSERT_TRUE(cas_->BatchReadBlobs(&ctx2, rd, &rdr).ok());
  EXPECT_EQ(rdr.responses(0).data(), "good blob");
  EXPECT_EQ(rdr.responses(1).status().code(), grpc::StatusCode::NOT_FOUND);

  // Asking for more than the batch limit is refused as a whole.
  grpc::ClientContext ctx3;
  re::BatchReadBlobsRequest big;
  auto* bd = big.add_digests();
  bd->set_hash(good.hash());
  bd->set_size_bytes(5 << 20);
  grpc::Status s = cas_->BatchReadBlobs(&ctx3, big, &rdr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("max_batch_total_size_bytes"));
  // Sizes whose sum overflows int64 are refused the same way.
  grpc::ClientContext ctx4;
  re::BatchReadBlobsRequest wrap;
  for (int i = 0; i < 3; ++i) {
    auto* w = wrap.add_digests();
    w->set_hash(good.hash());
    w->set_size_bytes(i == 2 ? 1 : std::numeric_limits<int64_t>::max());
  }
  s = cas_->BatchReadBlobs(&ctx4, wrap, &rdr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("max_batch_total_size_bytes"));
}

TEST_F(CacheServerTest, ByteStreamRoundTripWithOffsetsAndLimits) {
  std::string data = Pattern(3 << 20, 7);
  Digest d = Digest::Of(data);
  int64_t committed = 0;
  grpc::Status s = Upload(WriteName(d), data, &committed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(committed, d.size());
  std::string back;
  ASSERT_TRUE(Download(ReadName(d), &back).ok());
  EXPECT_TRUE(back == data);
  ASSERT_TRUE(Download(ReadName(d), &back, 1000000, 12345).ok());
  EXPECT_TRUE(back == data.substr(1000000, 12345));
  ASSERT_TRUE(Download(ReadName(d), &back, d.size(), 0).ok());
  EXPECT_EQ(back, "");
  s = Download(ReadName(d), &back, d.size() + 1, 0);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  s = Download(ReadName(d), &back, -1, 0);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  // Writing it again returns the full committed size at once.
  s = Upload(WriteName(d, "u-2"), data, &committed);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(committed, d.size());
  // The empty blob is always readable.
  ASSERT_TRUE(Download(ReadName(Digest::Empty()), &back).ok());
  EXPECT_EQ(back, "");
}

TEST_F(CacheServerTest, ByteStreamRejectsBadUploads) {
  std::string data = Pattern(200000, 8);
  Digest d = Digest::Of(data);
  // Wrong hash.
  Digest other = Digest::Of(Pattern(200000, 9));
  grpc::Status s = Upload(WriteName(other), data);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("not to the digest's " + other.hash()));
  // Truncated: finish_write after fewer bytes than the size.
  auto longer = Digest::Create(d.hash(), d.size() + 10);
  s = Upload(WriteName(*longer), data);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("is incomplete: received 200000 of 200010 bytes"));
  // Too many bytes.
  auto shorter = Digest::Create(d.hash(), 1000);
  s = Upload(WriteName(*shorter), data);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("received more than 1000 bytes"));
  // Malformed resource names.
  s = Upload("inst/blobs/" + d.hash() + "/200000", data);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = Upload("uploads/u/blobs/" + d.hash() + "/abc", data);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("non-negative decimal integer"));
  std::string back;
  s = Download("inst/blobs/nothex/12", &back);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = Download(ReadName(d), &back);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  // Nothing of the failed uploads became visible.
  grpc::ClientContext ctx;
  re::FindMissingBlobsRequest req;
  *req.add_blob_digests() = other.ToProto();
  *req.add_blob_digests() = longer->ToProto();
  re::FindMissingBlobsResponse resp;
  ASSERT_TRUE(cas_->FindMissingBlobs(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.missing_blob_digests_size(), 2);
}

TEST_F(CacheServerTest, ByteStreamResumesAnInterruptedUpload) {
  std::string data = Pattern(1 << 20, 10);
  Digest d = Digest::Of(data);
  std::string name = WriteName(d, "resume-me");
  std::string first_half = data.substr(0, 300000);
  grpc::Status s = Upload(name, first_half, nullptr, 0, /*finish=*/false);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("ended without finish_write after 300000 bytes"));

  grpc::ClientContext ctx;
  bs::QueryWriteStatusRequest q;
  q.set_resource_name(name);
  bs::QueryWriteStatusResponse qr;
  ASSERT_TRUE(bytestream_->QueryWriteStatus(&ctx, q, &qr).ok());
  EXPECT_EQ(qr.committed_size(), 300000);
  EXPECT_FALSE(qr.complete());

  // Resuming at the wrong offset is refused and does not lose the upload.
  s = Upload(name, data, nullptr, 5);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("does not match the 300000 bytes committed"));

  int64_t committed = 0;
  s = Upload(name, data, &committed, 300000);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(committed, d.size());
  grpc::ClientContext ctx2;
  ASSERT_TRUE(bytestream_->QueryWriteStatus(&ctx2, q, &qr).ok());
  EXPECT_TRUE(qr.complete());
  std::string back;
  ASSERT_TRUE(Download(ReadName(d), &back).ok());
  EXPECT_TRUE(back == data);

  grpc::ClientContext ctx3;
  q.set_resource_name(WriteName(Digest::Of("never"), "nope"));
  s = bytestream_->QueryWriteStatus(&ctx3, q, &qr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CacheServerTest, ActionCacheRequiresCompleteResults) {
  Digest action = Digest::Of("action");
  Digest output = Digest::Of("output bytes");
  re::UpdateActionResultRequest up;
  *up.mutable_action_digest() = action.ToProto();
  auto* f = up.mutable_action_result()->add_output_files();
  f->set_path("out.txt");
  *f->mutable_digest() = output.ToProto();
  re::ActionResult got;
  {
    grpc::ClientContext ctx;
    grpc::Status s = ac_->UpdateActionResult(&ctx, up, &got);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(common::MissingBlobsOf(common::FromGrpcStatus(s)),
                ElementsAre(output));
  }
  {
    grpc::ClientContext ctx;
    re::GetActionResultRequest get;
    *get.mutable_action_digest() = action.ToProto();
    EXPECT_EQ(ac_->GetActionResult(&ctx, get, &got).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  ASSERT_TRUE(Upload(WriteName(output), "output bytes").ok());
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(ac_->UpdateActionResult(&ctx, up, &got).ok());
  }
  {
    grpc::ClientContext ctx;
    re::GetActionResultRequest get;
    *get.mutable_action_digest() = action.ToProto();
    ASSERT_TRUE(ac_->GetActionResult(&ctx, get, &got).ok());
    EXPECT_EQ(got.output_files(0).path(), "out.txt");
  }
  {
    grpc::ClientContext ctx;
    re::GetActionResultRequest get;
    get.mutable_action_digest()->set_hash("short");
    grpc::Status s = ac_->GetActionResult(&ctx, get, &got);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("action_digest"));
  }
  std::string metrics = HttpGet("http://" + metrics_address_ + "/metrics");
  EXPECT_EQ(
      testing_util::MetricValue(
          metrics, "pbrx_cache_action_cache_lookups_total{result=\"hit\"}"),
      1);
  EXPECT_EQ(
      testing_util::MetricValue(
          metrics, "pbrx_cache_action_cache_lookups_total{result=\"miss\"}"),
      1);
  EXPECT_EQ(testing_util::MetricValue(
                metrics,
                "pbrx_cache_requests_total{code=\"FAILED_PRECONDITION\","
                "method=\"UpdateActionResult\"}"),
            1);
  EXPECT_EQ(testing_util::MetricValue(
                metrics,
                "pbrx_cache_requests_total{code=\"INVALID_ARGUMENT\","
                "method=\"GetActionResult\"}"),
            1);
}

TEST_F(CacheServerTest, GetTreeStreamsEveryDirectoryInPages) {
  // root -> {a -> {c}, b}; c also referenced twice to check de-duplication.
  re::Directory c;
  auto* cf = c.add_files();
  cf->set_name("leaf");
  *cf->mutable_digest() = Digest::Of("x").ToProto();
  std::string c_bytes = c.SerializeAsString();
  re::Directory a;
  auto* an = a.add_directories();
  an->set_name("c");
  *an->mutable_digest() = Digest::Of(c_bytes).ToProto();
  re::Directory b;
  auto* bn = b.add_directories();
  bn->set_name("c2");
  *bn->mutable_digest() = Digest::Of(c_bytes).ToProto();
  std::string a_bytes = a.SerializeAsString(), b_bytes = b.SerializeAsString();
  re::Directory root;
  auto* ra = root.add_directories();
  ra->set_name("a");
  *ra->mutable_digest() = Digest::Of(a_bytes).ToProto();
  auto* rb = root.add_directories();
  rb->set_name("b");
  *rb->mutable_digest() = Digest::Of(b_bytes).ToProto();
  std::string root_bytes = root.SerializeAsString();
  for (const std::string* blob : {&c_bytes, &a_bytes, &b_bytes, &root_bytes}) {
    ASSERT_TRUE(
        Upload(WriteName(Digest::Of(*blob), "t" + std::to_string(blob->size())),
               *blob)
            .ok());
  }
  grpc::ClientContext ctx;
  re::GetTreeRequest req;
  *req.mutable_root_digest() = Digest::Of(root_bytes).ToProto();
  req.set_page_size(1);
  auto reader = cas_->GetTree(&ctx, req);
  re::GetTreeResponse page;
  int pages = 0, dirs = 0;
  std::string last_token = "unset";
  while (reader->Read(&page)) {
    ++pages;
    dirs += page.directories_size();
    last_token = page.next_page_token();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(dirs, 4);
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(last_token, "");

  grpc::ClientContext ctx2;
  *req.mutable_root_digest() = Digest::Of("no such dir").ToProto();
  auto reader2 = cas_->GetTree(&ctx2, req);
  while (reader2->Read(&page)) {
  }
  EXPECT_EQ(reader2->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CacheServerTest, GracefulShutdownThenDataSurvives) {
  Digest d = Digest::Of("kept across restarts");
  ASSERT_TRUE(Upload(WriteName(d), "kept across restarts").ok());
  auto status = server_->Stop(SIGTERM, absl::Seconds(30));
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  StartServer({});
  std::string back;
  ASSERT_TRUE(Download(ReadName(d), &back).ok());
  EXPECT_EQ(back, "kept across restarts");
}

TEST_F(CacheServerTest, KillNineDuringWritesLosesNoAcknowledgedWrite) {
  // Four clients upload distinct blobs (1 KiB .. 3 MiB) in a loop; every
  // acknowledged digest is recorded. kill -9 while uploads are in flight.
  absl::Mutex mu;
  std::vector<std::pair<Digest, int>> acked;  // digest, seed
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 400 && !stop; ++i) {
        int seed = c * 1000 + i;
        size_t size = (i % 4 == 0) ? (3 << 20) : 1024 * (1 + (seed % 50));
        std::string data = Pattern(size, seed);
        Digest d = Digest::Of(data);
        if (Upload(WriteName(d, absl::StrCat("k", seed)), data).ok()) {
          absl::MutexLock lock(&mu);
          acked.emplace_back(d, seed);
        }
      }
    });
  }
  // Poll (bounded) until a good number of writes are acknowledged.
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    {
      absl::MutexLock lock(&mu);
      if (acked.size() >= 40) break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  std::vector<std::pair<Digest, int>> snapshot;
  {
    absl::MutexLock lock(&mu);
    snapshot = acked;
  }
  ASSERT_TRUE(server_->Stop(SIGKILL, absl::Seconds(10)).ok());
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_GE(snapshot.size(), 40u);
  {
    absl::MutexLock lock(&mu);
    snapshot = acked;  // everything acknowledged before the kill
  }

  StartServer({});
  for (const auto& [d, seed] : snapshot) {
    std::string back;
    grpc::Status s = Download(ReadName(d), &back);
    ASSERT_TRUE(s.ok()) << d << ": " << s.error_message();
    ASSERT_TRUE(back == Pattern(static_cast<size_t>(d.size()), seed)) << d;
  }
}

TEST_F(CacheServerTest, MalformedRequestsNeverCrashTheServer) {
  // A bounded, seeded barrage of malformed requests on every RPC. Each must
  // get an error code (never OK for garbage, never UNKNOWN/INTERNAL), and the
  // server must stay up.
  std::mt19937 rng(20261127);
  auto pick = [&](std::vector<std::string> v) { return v[rng() % v.size()]; };
  auto junk_hash = [&]() {
    return pick({"", "abc", std::string(64, 'g'), std::string(64, 'A'),
                 std::string(65, 'a'), std::string(63, 'f'), "../../etc/passwd",
                 std::string(1000, 'a')});
  };
  auto junk_name = [&]() {
    std::string h = Digest::Of("x").hash();
    return pick({"", "/", "blobs", "blobs/", "blobs/" + h, "blobs/" + h + "/",
                 "blobs/" + h + "/-1", "blobs/" + h + "/1x",
                 "blobs/" + h + "/99999999999999999999", "a//blobs/" + h + "/1",
                 "uploads/blobs/" + h + "/1", "uploads//blobs/" + h + "/1",
                 "x/uploads/u/blobs/zz/1", "compressed-blobs/zstd/" + h + "/1",
                 "uploads/u/compressed-blobs/zstd/" + h + "/1",
                 std::string(5000, '/'), "operations/blobs/" + h + "/1",
                 "blobs/" + junk_hash() + "/1"});
  };
  auto expect_error = [&](const grpc::Status& s, const std::string& what) {
    EXPECT_FALSE(s.ok()) << what;
    EXPECT_NE(s.error_code(), grpc::StatusCode::UNKNOWN)
        << what << ": " << s.error_message();
    EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL)
        << what << ": " << s.error_message();
  };
  for (int i = 0; i < 300; ++i) {
    switch (i % 6) {
      case 0: {
        grpc::ClientContext ctx;
        re::FindMissingBlobsRequest req;
        auto* d = req.add_blob_digests();
        d->set_hash(junk_hash());
        d->set_size_bytes(static_cast<int64_t>(rng()) - (1ll << 31));
        re::FindMissingBlobsResponse resp;
        expect_error(cas_->FindMissingBlobs(&ctx, req, &resp),
                     "FindMissingBlobs");
        break;
      }
      case 1: {
        std::string back;
        grpc::Status s =
            Download(junk_name(), &back, static_cast<int64_t>(rng() % 3) - 1,
                     static_cast<int64_t>(rng() % 3) - 1);
        expect_error(s, "Read");
        break;
      }
      case 2: {
        grpc::Status s = Upload(junk_name(), std::string(rng() % 3000, 'z'));
        expect_error(s, "Write");
        break;
      }
      case 3: {
        grpc::ClientContext ctx;
        re::GetActionResultRequest req;
        req.set_instance_name(pick({"blobs", "a//b", "/x", "..", "uploads/z"}));
        *req.mutable_action_digest() = Digest::Of("a").ToProto();
        re::ActionResult res;
        expect_error(ac_->GetActionResult(&ctx, req, &res), "GetActionResult");
        break;
      }
      case 4: {
        grpc::ClientContext ctx;
        re::UpdateActionResultRequest req;
        *req.mutable_action_digest() = Digest::Of("a").ToProto();
        auto* f = req.mutable_action_result()->add_output_files();
        f->mutable_digest()->set_hash(junk_hash());
        f->mutable_digest()->set_size_bytes(static_cast<int64_t>(rng() % 100));
        auto* d = req.mutable_action_result()->add_output_directories();
        *d->mutable_tree_digest() = Digest::Of("not a tree").ToProto();
        re::ActionResult res;
        expect_error(ac_->UpdateActionResult(&ctx, req, &res),
                     "UpdateActionResult");
        break;
      }
      case 5: {
        grpc::ClientContext ctx;
        re::GetTreeRequest req;
        req.mutable_root_digest()->set_hash(junk_hash());
        req.set_page_token(pick({"", "x", "-5", "99999999999999999999999"}));
        req.set_page_size(static_cast<int32_t>(rng() % 5) - 2);
        auto reader = cas_->GetTree(&ctx, req);
        re::GetTreeResponse page;
        while (reader->Read(&page)) {
        }
        expect_error(reader->Finish(), "GetTree");
        break;
      }
    }
  }
  // Still serving, and still the same process.
  grpc::ClientContext ctx;
  re::GetCapabilitiesRequest req;
  re::ServerCapabilities caps;
  EXPECT_TRUE(caps_->GetCapabilities(&ctx, req, &caps).ok());
  EXPECT_EQ(kill(server_->pid(), 0), 0);
}

}  // namespace
}  // namespace pbrx::cache_test
