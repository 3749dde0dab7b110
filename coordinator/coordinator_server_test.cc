// The coordinator's gRPC surface with real servers on loopback: a
// CacheServer (RocksDB on disk), the CoordinatorServer, REAPI clients and
// executors speaking the Worker API (the executors' behaviour is scripted
// here, so faults can be injected).
#include "coordinator/coordinator_server.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/cache_server.h"
#include "cache/grpc_cache_client.h"
#include "common/grpc_status.h"
#include "common/missing_blobs.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/farm.grpc.pb.h"
#include "tests/test_util.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
namespace fv = pbrx::farm::v1;
namespace lr = google::longrunning;
using common::Digest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// An executor whose every move is the test's.
class ScriptedWorker {
 public:
  ScriptedWorker(std::shared_ptr<grpc::Channel> channel,
                 const std::string& name, int slots = 1)
      : stub_(fv::Worker::NewStub(channel)) {
    ctx_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    stream_ = stub_->Work(&ctx_);
    fv::WorkerMessage m;
    m.mutable_register_()->set_name(name);
    m.mutable_register_()->set_slots(slots);
    EXPECT_TRUE(stream_->Write(m));
    fv::CoordinatorMessage hello;
    EXPECT_TRUE(stream_->Read(&hello));
    EXPECT_TRUE(hello.has_registered());
    id_ = hello.registered().worker_id();
  }
  fv::Lease NextLease() {
    fv::CoordinatorMessage m;
    while (stream_->Read(&m)) {
      if (m.has_lease()) return m.lease();
    }
    ADD_FAILURE() << "stream ended before a lease";
    return {};
  }
  void Complete(const fv::Lease& lease, const re::ActionResult& result) {
    fv::WorkerMessage m;
    m.mutable_completion()->set_lease_id(lease.lease_id());
    *m.mutable_completion()->mutable_result() = result;
    EXPECT_TRUE(stream_->Write(m));
  }
  void Fail(const fv::Lease& lease, const absl::Status& status) {
    fv::WorkerMessage m;
    m.mutable_completion()->set_lease_id(lease.lease_id());
    *m.mutable_completion()->mutable_status() = common::ToRpcStatus(status);
    EXPECT_TRUE(stream_->Write(m));
  }
  // The next message of any kind.
  fv::CoordinatorMessage NextMessage() {
    fv::CoordinatorMessage m;
    EXPECT_TRUE(stream_->Read(&m));
    return m;
  }
  void Vanish() { ctx_.TryCancel(); }
  const std::string& id() const { return id_; }

 private:
  std::unique_ptr<fv::Worker::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<
      grpc::ClientReaderWriter<fv::WorkerMessage, fv::CoordinatorMessage>>
      stream_;
  std::string id_;
};

class CoordinatorServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache::CacheServerOptions co;
    co.data_dir = testing_util::NewTempDir("coord-cache");
    cache_ = std::move(cache::CacheServer::Create(co, &clock_)).value();
    ASSERT_TRUE(cache_->Start().ok());
    CoordinatorServerOptions o;
    o.cache = "grpc://" + cache_->address();
    o.scheduler.max_attempts = 2;
    o.scheduler.fault_cooldown = absl::Milliseconds(200);
    o.scheduler.unmatched_timeout = absl::Seconds(2);
    coord_ = std::move(CoordinatorServer::Create(o, &clock_)).value();
    ASSERT_TRUE(coord_->Start().ok());
    channel_ = grpc::CreateChannel(coord_->address(),
                                   grpc::InsecureChannelCredentials());
    exec_ = re::Execution::NewStub(channel_);
  }
  void TearDown() override {
    coord_->Shutdown(absl::Seconds(1));
    cache_->Shutdown(absl::Seconds(1));
  }

  Digest Put(const std::string& bytes) {
    return *cache::WriteBlob(cache_->blob_store(), bytes);
  }
  // An action "echo" with one input file; returns its digest.
  Digest MakeAction(const std::string& tag, bool upload_input = true) {
    re::Command cmd;
    cmd.add_arguments("echo");
    cmd.add_arguments(tag);
    cmd.add_output_files("out.txt");
    std::string input = "input of " + tag;
    Digest in = upload_input ? Put(input) : Digest::Of(input);
    re::Directory root;
    auto* f = root.add_files();
    f->set_name("in.txt");
    *f->mutable_digest() = in.ToProto();
    re::Action a;
    *a.mutable_command_digest() = Put(cmd.SerializeAsString()).ToProto();
    *a.mutable_input_root_digest() = Put(root.SerializeAsString()).ToProto();
    return Put(a.SerializeAsString());
  }
  re::ActionResult Result(const std::string& output, bool upload) {
    Digest d = upload ? Put(output) : Digest::Of(output);
    re::ActionResult r;
    auto* f = r.add_output_files();
    f->set_path("out.txt");
    *f->mutable_digest() = d.ToProto();
    return r;
  }

  // Runs Execute to the end; returns the stages seen and the response.
  struct Executed {
    std::vector<re::ExecutionStage::Value> stages;
    re::ExecuteResponse response;
    grpc::Status status;
    std::string name;
  };
  Executed Execute(const Digest& action, bool skip_cache_lookup = false) {
    re::ExecuteRequest req;
    *req.mutable_action_digest() = action.ToProto();
    req.set_skip_cache_lookup(skip_cache_lookup);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    auto reader = exec_->Execute(&ctx, req);
    Executed out;
    lr::Operation op;
    while (reader->Read(&op)) {
      out.name = op.name();
      re::ExecuteOperationMetadata md;
      op.metadata().UnpackTo(&md);
      out.stages.push_back(md.stage());
      if (op.done()) op.response().UnpackTo(&out.response);
    }
    out.status = reader->Finish();
    return out;
  }

  common::RealClock clock_;
  std::unique_ptr<cache::CacheServer> cache_;
  std::unique_ptr<CoordinatorServer> coord_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<re::Execution::Stub> exec_;
};

TEST_F(CoordinatorServerTest, ExecutesOnAWorkerRecordsAndThenHits) {
  Digest action = MakeAction("a");
  Executed done;
  std::thread client([&] { done = Execute(action); });
  // Queued before any executor exists, so QUEUED is seen first.
  for (int i = 0; i < 100 && coord_->scheduler().Stats().queued == 0; ++i)
    absl::SleepFor(absl::Milliseconds(20));
  ScriptedWorker w(channel_, "w1");
  fv::Lease lease = w.NextLease();
  EXPECT_EQ(lease.action_digest().hash(), action.hash());
  EXPECT_EQ(lease.attempt(), 1);
  // The Action and Command come with the lease: the executor need not
  // fetch them.
  EXPECT_EQ(Digest::Of(lease.action().SerializeAsString()), action);
  EXPECT_EQ(Digest::Of(lease.command().SerializeAsString()),
            Digest::FromProto(lease.action().command_digest()).value());
  EXPECT_THAT(lease.command().arguments(), ElementsAre("echo", "a"));
  w.Complete(lease, Result("a\n", true));
  client.join();
  ASSERT_TRUE(done.status.ok()) << done.status.error_message();
  EXPECT_EQ(done.stages.back(), re::ExecutionStage::COMPLETED);
  EXPECT_EQ(done.stages.front(), re::ExecutionStage::QUEUED);
  EXPECT_FALSE(done.response.cached_result());
  EXPECT_EQ(done.response.status().code(), 0);
  EXPECT_EQ(done.response.result().output_files(0).digest().hash(),
            Digest::Of("a\n").hash());
  // Recorded by the coordinator: the next Execute is a hit.
  Executed again = Execute(action);
  EXPECT_TRUE(again.response.cached_result());
  EXPECT_EQ(coord_->metrics().StepCount("cache_hit"), 1);
  EXPECT_EQ(coord_->metrics().StepCount("executed"), 1);
}

TEST_F(CoordinatorServerTest, ResultNamingUnuploadedBlobsNeverReachesTheCache) {
  Digest action = MakeAction("b");
  Executed done;
  std::thread client([&] { done = Execute(action); });
  ScriptedWorker liar(channel_, "liar");
  fv::Lease first = liar.NextLease();
  liar.Complete(first, Result("never uploaded", false));
  // Retried (the executor was at fault); the second try lies again: the
  // retry cap (2) ends it.
  fv::Lease second = liar.NextLease();
  EXPECT_EQ(second.attempt(), 2);
  liar.Complete(second, Result("never uploaded either", false));
  client.join();
  ASSERT_TRUE(done.status.ok());
  EXPECT_EQ(done.response.status().code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(done.response.status().message(),
              HasSubstr("reported outputs that are not in the CAS"));
  EXPECT_THAT(done.response.status().message(), HasSubstr("retry cap 2"));
  EXPECT_EQ(coord_->action_cache().Get(action).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(coord_->metrics().RetryCount(), 1);
}

TEST_F(CoordinatorServerTest, AProxiedReadErrorNamesTheCallOnce) {
  // Blobs the cache lacks, read through the coordinator's CAS proxy: the
  // cache client's call name is not repeated by the client's own. A small
  // blob goes by BatchReadBlobs, a large one by ByteStream.
  cache::GrpcBlobStore cas(channel_, cache::GrpcCacheOptions{});
  Digest small = Digest::Of("never stored");
  absl::Status s = cas.OpenRead(small, 0, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  const std::string prefix =
      absl::StrCat("BatchReadBlobs of ", small.ToString(), ": ");
  EXPECT_THAT(std::string(s.message()), StartsWith(prefix));
  EXPECT_THAT(std::string(s.message()).substr(prefix.size()),
              Not(HasSubstr("BatchReadBlobs")));
  Digest large = Digest::Of(std::string(1 << 20, 'x'));
  s = cas.OpenRead(large, 0, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), StartsWith("ByteStream.Read: "));
  EXPECT_THAT(std::string(s.message()),
              Not(HasSubstr("ByteStream.Read: ByteStream.Read")));
}

TEST_F(CoordinatorServerTest,
       ACompletionForAnotherExecutorsLeaseChangesNothing) {
  Digest action = MakeAction("hijack");
  Executed done;
  std::thread client([&] { done = Execute(action); });
  ScriptedWorker honest(channel_, "honest");
  fv::Lease lease = honest.NextLease();
  // Lease ids are 128 random bits, not a counter another executor could
  // walk.
  EXPECT_EQ(lease.lease_id().size(), 32u);
  EXPECT_EQ(lease.lease_id().find_first_not_of("0123456789abcdef"),
            std::string::npos);
  // A second registered executor sends a result for that lease (it learnt
  // the id somehow): ignored, nothing recorded, the build still waits.
  ScriptedWorker rogue(channel_, "rogue");
  rogue.Complete(lease, Result("forged", true));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(coord_->action_cache().Get(action).status().code(),
            absl::StatusCode::kNotFound);
  honest.Complete(lease, Result("real", true));
  client.join();
  ASSERT_TRUE(done.status.ok());
  ASSERT_EQ(done.response.result().output_files_size(), 1);
  EXPECT_EQ(done.response.result().output_files(0).digest().hash(),
            Digest::Of("real").hash());
  EXPECT_EQ(coord_->action_cache()
                .Get(action)
                .value()
                .output_files(0)
                .digest()
                .hash(),
            Digest::Of("real").hash());
}

TEST_F(CoordinatorServerTest, LostExecutorsLeaseMovesToAnother) {
  Digest action = MakeAction("c");
  Executed done;
  std::thread client([&] { done = Execute(action); });
  auto a = std::make_unique<ScriptedWorker>(channel_, "a");
  fv::Lease lost = a->NextLease();
  ScriptedWorker b(channel_, "b");
  a->Vanish();
  fv::Lease moved = b.NextLease();
  EXPECT_EQ(moved.action_digest().hash(), action.hash());
  EXPECT_EQ(moved.attempt(), 2);
  EXPECT_NE(moved.lease_id(), lost.lease_id());
  b.Complete(moved, Result("c\n", true));
  client.join();
  EXPECT_EQ(done.response.status().code(), 0);
  EXPECT_EQ(done.response.result().output_files(0).digest().hash(),
            Digest::Of("c\n").hash());
}

TEST_F(CoordinatorServerTest, ExecutorErrorsAreRetriedOrReported) {
  Digest action = MakeAction("d");
  Executed done;
  std::thread client([&] { done = Execute(action); });
  ScriptedWorker w(channel_, "w");
  w.Fail(w.NextLease(), absl::ResourceExhaustedError("disk full"));
  // Not the action's fault: retried; an INVALID_ARGUMENT is the action's.
  w.Fail(w.NextLease(), absl::InvalidArgumentError("unsupported property"));
  client.join();
  EXPECT_EQ(done.response.status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(done.response.status().message(),
              HasSubstr("executor w: unsupported property"));
}

TEST_F(CoordinatorServerTest,
       MissingInputsAreFailedPreconditionWithViolations) {
  Digest action = MakeAction("e", /*upload_input=*/false);
  Executed done = Execute(action);
  EXPECT_EQ(done.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  std::vector<Digest> missing =
      common::MissingBlobsOf(common::FromGrpcStatus(done.status));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0], Digest::Of("input of e"));
  // The Action itself missing: the same, naming the action.
  Executed none = Execute(Digest::Of("no such action"));
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(common::MissingBlobsOf(common::FromGrpcStatus(none.status))[0],
            Digest::Of("no such action"));
}

TEST_F(CoordinatorServerTest, OversizedMessageBlobsAreRefusedUnread) {
  // A 5 MiB blob named as the action, then as the input root: refused by
  // its digest's size, before the coordinator reads it.
  Digest big = Put(std::string(5 << 20, 'x'));
  Executed as_action = Execute(big);
  EXPECT_EQ(as_action.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(as_action.status.error_message(),
            "the action " + big.ToString() +
                " is 5242880 bytes, more than the 4194304 a message blob "
                "may have");
  re::Command cmd;
  cmd.add_arguments("true");
  re::Action a;
  *a.mutable_command_digest() = Put(cmd.SerializeAsString()).ToProto();
  *a.mutable_input_root_digest() = big.ToProto();
  Executed as_root = Execute(Put(a.SerializeAsString()));
  EXPECT_EQ(as_root.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(as_root.status.error_message(),
              HasSubstr("the input directory " + big.ToString() + " is"));
}

TEST_F(CoordinatorServerTest, MalformedRequestsAreRefused) {
  re::ExecuteRequest bad;
  bad.mutable_action_digest()->set_hash("xyz");
  grpc::ClientContext c1;
  auto r1 = exec_->Execute(&c1, bad);
  lr::Operation op;
  while (r1->Read(&op)) {
  }
  grpc::Status s1 = r1->Finish();
  EXPECT_EQ(s1.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s1.error_message(), HasSubstr("action_digest"));

  re::ExecuteRequest bad_instance;
  bad_instance.set_instance_name("a/../b");
  *bad_instance.mutable_action_digest() = MakeAction("f").ToProto();
  grpc::ClientContext c2;
  auto r2 = exec_->Execute(&c2, bad_instance);
  while (r2->Read(&op)) {
  }
  EXPECT_EQ(r2->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  re::WaitExecutionRequest wait;
  wait.set_name("operations/nope");
  grpc::ClientContext c3;
  auto r3 = exec_->WaitExecution(&c3, wait);
  while (r3->Read(&op)) {
  }
  EXPECT_EQ(r3->Finish().error_code(), grpc::StatusCode::NOT_FOUND);

  auto worker = fv::Worker::NewStub(channel_);
  for (int slots : {1, 0}) {
    grpc::ClientContext c;
    auto stream = worker->Work(&c);
    fv::WorkerMessage m;
    if (slots == 1) {
      m.mutable_heartbeat();  // not Register
    } else {
      m.mutable_register_()->set_slots(0);
    }
    stream->Write(m);
    stream->WritesDone();
    fv::CoordinatorMessage reply;
    EXPECT_FALSE(stream->Read(&reply));
    grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), slots == 1 ? HasSubstr("must be Register")
                                              : HasSubstr("slots must be"));
  }
}

TEST_F(CoordinatorServerTest, UnmatchablePlatformFailsAndClientLeavingDrops) {
  // No executor at all: after --unmatched-timeout (2 s here) the action
  // fails with a message naming its platform.
  re::Command cmd;
  cmd.add_arguments("true");
  re::Action a;
  *a.mutable_command_digest() = Put(cmd.SerializeAsString()).ToProto();
  *a.mutable_input_root_digest() =
      Put(re::Directory().SerializeAsString()).ToProto();
  auto* p = a.mutable_platform()->add_properties();
  p->set_name("arch");
  p->set_value("riscv");
  Digest action = Put(a.SerializeAsString());
  Executed done = Execute(action);
  EXPECT_EQ(done.response.status().code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(done.response.status().message(),
              HasSubstr("no executor offers platform arch=riscv"));

  // A client that goes away while its action is queued: dropped.
  Digest other = MakeAction("g");
  re::ExecuteRequest req;
  *req.mutable_action_digest() = other.ToProto();
  grpc::ClientContext ctx;
  auto reader = exec_->Execute(&ctx, req);
  lr::Operation op;
  ASSERT_TRUE(reader->Read(&op));  // queued
  EXPECT_EQ(coord_->scheduler().Stats().queued, 1);
  ctx.TryCancel();
  reader->Finish();
  for (int i = 0; i < 50 && coord_->scheduler().Stats().queued > 0; ++i)
    absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(coord_->scheduler().Stats().queued, 0);
}

TEST_F(CoordinatorServerTest, RunningActionIsCancelledOnlyWhenNobodyWaits) {
  Digest action = MakeAction("h");
  re::ExecuteRequest req;
  *req.mutable_action_digest() = action.ToProto();
  // Two clients want the same action; a worker runs it.
  grpc::ClientContext leaving_ctx;
  auto leaving = exec_->Execute(&leaving_ctx, req);
  lr::Operation op;
  ASSERT_TRUE(leaving->Read(&op));
  Executed staying;
  std::thread other([&] { staying = Execute(action); });
  for (int i = 0; i < 100 && coord_->metrics().StepCount("joined") < 1; ++i)
    absl::SleepFor(absl::Milliseconds(20));
  ScriptedWorker w(channel_, "w", 2);
  fv::Lease lease = w.NextLease();
  // One client leaves: the other still waits, nothing is cancelled.
  leaving_ctx.TryCancel();
  leaving->Finish();
  absl::SleepFor(absl::Milliseconds(300));
  w.Complete(lease, Result("h\n", true));
  other.join();
  EXPECT_EQ(staying.response.status().code(), 0);
  EXPECT_EQ(staying.response.result().output_files(0).digest().hash(),
            Digest::Of("h\n").hash());

  // A single client leaves while its action runs: the executor is told.
  Digest lone = MakeAction("i");
  *req.mutable_action_digest() = lone.ToProto();
  grpc::ClientContext ctx;
  auto reader = exec_->Execute(&ctx, req);
  ASSERT_TRUE(reader->Read(&op));
  fv::Lease running = w.NextLease();
  EXPECT_EQ(running.action_digest().hash(), lone.hash());
  ctx.TryCancel();
  reader->Finish();
  fv::CoordinatorMessage cancel = w.NextMessage();
  ASSERT_TRUE(cancel.has_cancel());
  EXPECT_EQ(cancel.cancel().lease_id(), running.lease_id());
  w.Fail(running, absl::CancelledError("killed"));
  for (int i = 0; i < 100 && coord_->scheduler().Stats().running > 0; ++i)
    absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(coord_->scheduler().Stats().running, 0);
  EXPECT_EQ(coord_->action_cache().Get(lone).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CoordinatorServerTest, LongStreamsArePerPeerBounded) {
  // --max-streams-per-peer 2: two waiting Execute streams from this host
  // are served; a third long stream of any kind from it (Execute, Work) is
  // refused RESOURCE_EXHAUSTED naming the bound, short calls still work,
  // and a stream that ends makes room.
  coord_->Shutdown(absl::Seconds(1));
  CoordinatorServerOptions o;
  o.cache = "grpc://" + cache_->address();
  o.scheduler.unmatched_timeout = absl::Seconds(60);
  o.limits.max_streams_per_peer = 2;
  coord_ = std::move(CoordinatorServer::Create(o, &clock_)).value();
  ASSERT_TRUE(coord_->Start().ok());
  channel_ = grpc::CreateChannel(coord_->address(),
                                 grpc::InsecureChannelCredentials());
  exec_ = re::Execution::NewStub(channel_);
  struct Waiting {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<lr::Operation>> reader;
  };
  auto start = [&](Waiting& w, const std::string& tag) {
    re::ExecuteRequest req;
    *req.mutable_action_digest() = MakeAction(tag).ToProto();
    w.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    w.reader = exec_->Execute(&w.ctx, req);
    lr::Operation op;
    return w.reader->Read(&op);
  };
  Waiting a, b, c;
  ASSERT_TRUE(start(a, "a"));
  ASSERT_TRUE(start(b, "b"));
  EXPECT_FALSE(start(c, "c"));
  grpc::Status refused = c.reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(),
            "Execution.Execute: 2 streams already open from 127.0.0.1 "
            "(--max-streams-per-peer 2)");
  {
    auto worker = fv::Worker::NewStub(channel_);
    grpc::ClientContext ctx;
    auto stream = worker->Work(&ctx);
    fv::WorkerMessage m;
    m.mutable_register_()->set_name("w");
    m.mutable_register_()->set_slots(1);
    stream->Write(m);
    fv::CoordinatorMessage reply;
    EXPECT_FALSE(stream->Read(&reply));
    grpc::Status st = stream->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(st.error_message(), HasSubstr("Worker.Work: 2 streams"));
  }
  {
    auto caps = re::Capabilities::NewStub(channel_);
    grpc::ClientContext ctx;
    re::ServerCapabilities out;
    EXPECT_TRUE(caps->GetCapabilities(&ctx, {}, &out).ok());
  }
  a.ctx.TryCancel();
  a.reader->Finish();
  bool accepted = false;
  for (int i = 0; i < 50 && !accepted; ++i) {
    Waiting retry;
    accepted = start(retry, "d");
    if (!accepted) {
      retry.reader->Finish();
      absl::SleepFor(absl::Milliseconds(100));
    } else {
      retry.ctx.TryCancel();
      retry.reader->Finish();
    }
  }
  EXPECT_TRUE(accepted) << "no room after a stream ended";
  b.ctx.TryCancel();
  b.reader->Finish();
}

TEST_F(CoordinatorServerTest, WaitExecutionFollowsAnOperationByName) {
  Digest action = MakeAction("j");
  re::ExecuteRequest req;
  *req.mutable_action_digest() = action.ToProto();
  grpc::ClientContext first_ctx;
  auto first = exec_->Execute(&first_ctx, req);
  lr::Operation op;
  ASSERT_TRUE(first->Read(&op));
  ASSERT_FALSE(op.done());
  const std::string name = op.name();
  // Another connection picks the operation up by name (a client that
  // reconnects), then the executor finishes it.
  re::WaitExecutionRequest wait;
  wait.set_name(name);
  grpc::ClientContext wait_ctx;
  wait_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto waiter = exec_->WaitExecution(&wait_ctx, wait);
  ASSERT_TRUE(waiter->Read(&op));
  EXPECT_EQ(op.name(), name);
  ScriptedWorker w(channel_, "w");
  w.Complete(w.NextLease(), Result("j\n", true));
  bool done = false;
  re::ExecuteResponse resp;
  while (waiter->Read(&op)) {
    if (op.done()) {
      done = true;
      op.response().UnpackTo(&resp);
    }
  }
  EXPECT_TRUE(waiter->Finish().ok());
  ASSERT_TRUE(done);
  EXPECT_EQ(resp.result().output_files(0).digest().hash(),
            Digest::Of("j\n").hash());
  first_ctx.TryCancel();
  first->Finish();
}

TEST_F(CoordinatorServerTest, FarmStatusListsExecutors) {
  ScriptedWorker w(channel_, "status-worker", 3);
  auto stub = fv::FarmStatus::NewStub(channel_);
  grpc::ClientContext ctx;
  fv::GetStatusResponse resp;
  ASSERT_TRUE(stub->GetStatus(&ctx, fv::GetStatusRequest(), &resp).ok());
  ASSERT_EQ(resp.executors_size(), 1);
  EXPECT_EQ(resp.executors(0).name(), "status-worker");
  EXPECT_EQ(resp.executors(0).slots(), 3);
  EXPECT_EQ(resp.cache(), "grpc://" + cache_->address());
}

}  // namespace
}  // namespace pbrx::coordinator
