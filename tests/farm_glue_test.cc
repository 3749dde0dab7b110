// The farm's glue under faults, with real servers on loopback: a
// CacheServer (RocksDB on disk), the CoordinatorServer, and the real
// WorkerClient (the pbrx-executor side of the Worker API) over an
// ActionExecutor whose runs the test controls. Covers what the end-to-end
// tests only pass through: reconnection with backoff after a coordinator
// restart, heartbeats while every slot is busy, an executor stopped
// (SIGTERM) with a lease in flight, the retry cap, a build whose client goes
// away (FarmExecutor's cancellation), and an operation followed across a
// coordinator restart.
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/cache_server.h"
#include "common/action_executor.h"
#include "coordinator/coordinator_server.h"
#include "coordinator/farm_executor.h"
#include "executor/worker_client.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/farm.grpc.pb.h"
#include "tests/test_util.h"

namespace pbrx {
namespace {

namespace re = build::bazel::remote::execution::v2;
namespace lr = google::longrunning;
using common::Digest;
using ::testing::HasSubstr;

// An ActionExecutor whose runs last `run_time` (or until cancelled) and
// then produce out.txt = "<name>:<action hash prefix>", uploaded to the CAS.
class ControlledRunner : public common::ActionExecutor {
 public:
  ControlledRunner(std::string name, cache::BlobStore* cas)
      : name_(std::move(name)), cas_(cas) {}

  absl::StatusOr<common::ActionOutcome> Run(
      const Digest& action, const common::ExecuteOptions& options) override {
    started_++;
    {
      absl::MutexLock lock(&mu_);
      credentials_[action.hash()] = options.credentials;
    }
    absl::Time until = absl::Now() + run_time;
    while (absl::Now() < until) {
      if (options.cancel != nullptr && options.cancel->load()) {
        cancelled_++;
        return absl::CancelledError("the execution was cancelled");
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    std::string out = absl::StrCat(name_, ":", action.hash().substr(0, 8));
    absl::StatusOr<Digest> d = cache::WriteBlob(*cas_, out);
    if (!d.ok()) return d.status();
    common::ActionOutcome o;
    auto* f = o.result.add_output_files();
    f->set_path("out.txt");
    *f->mutable_digest() = d->ToProto();
    finished_++;
    return o;
  }

  absl::Duration run_time = absl::ZeroDuration();
  std::atomic<int> started_{0}, finished_{0}, cancelled_{0};
  std::vector<common::HostCredential> CredentialsOf(const Digest& action) {
    absl::MutexLock lock(&mu_);
    return credentials_[action.hash()];
  }

 private:
  std::string name_;
  cache::BlobStore* cas_;
  absl::Mutex mu_;
  // What each execution was given beside its Action.
  std::map<std::string, std::vector<common::HostCredential>> credentials_;
};

// A WorkerClient serving on its own thread.
class Executor {
 public:
  Executor(const std::string& coordinator, const std::string& name,
           cache::BlobStore* cas, int slots = 1)
      : runner(name, cas) {
    executor::WorkerClientOptions o;
    o.name = name;
    o.slots = slots;
    o.min_backoff = absl::Milliseconds(50);
    o.max_backoff = absl::Milliseconds(400);
    client_ = std::make_unique<executor::WorkerClient>(
        grpc::CreateChannel(coordinator, grpc::InsecureChannelCredentials()),
        &runner, o);
    thread_ = std::thread([this] {
      client_->Run();
      returned_ = true;
    });
  }
  ~Executor() { Stop(); }
  void Stop() {
    client_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  bool returned() const { return returned_; }
  executor::WorkerClient& client() { return *client_; }

  ControlledRunner runner;

 private:
  std::unique_ptr<executor::WorkerClient> client_;
  std::thread thread_;
  std::atomic<bool> returned_{false};
};

// Polls `done` every 20 ms for at most `limit`.
bool Eventually(const std::function<bool()>& done,
                absl::Duration limit = absl::Seconds(20)) {
  absl::Time end = absl::Now() + limit;
  while (absl::Now() < end) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return done();
}

class FarmGlueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache::CacheServerOptions co;
    co.data_dir = testing_util::NewTempDir("glue-cache");
    cache_ = std::move(cache::CacheServer::Create(co, &clock_)).value();
    ASSERT_TRUE(cache_->Start().ok());
    StartCoordinator("127.0.0.1:0");
  }
  void TearDown() override {
    if (coord_ != nullptr) coord_->Shutdown(absl::Seconds(1));
    cache_->Shutdown(absl::Seconds(1));
  }

  void StartCoordinator(const std::string& listen) {
    coordinator::CoordinatorServerOptions o;
    o.listen = listen;
    o.cache = "grpc://" + cache_->address();
    o.scheduler.max_attempts = max_attempts_;
    o.build_timeout = build_timeout_;
    o.scheduler.worker_timeout = absl::Milliseconds(600);
    o.scheduler.heartbeat_interval = absl::Milliseconds(100);
    o.scheduler.fault_cooldown = absl::Milliseconds(100);
    auto c = coordinator::CoordinatorServer::Create(o, &clock_);
    ASSERT_TRUE(c.ok()) << c.status();
    coord_ = std::move(*c);
    ASSERT_TRUE(coord_->Start().ok());
    channel_ = grpc::CreateChannel(coord_->address(),
                                   grpc::InsecureChannelCredentials());
    exec_ = re::Execution::NewStub(channel_);
  }
  void RestartCoordinator(absl::Duration down_for) {
    std::string address = coord_->address();
    coord_->Shutdown(absl::ZeroDuration());
    coord_.reset();
    absl::SleepFor(down_for);  // the outage under test, not a sync point
    StartCoordinator(address);
  }

  Digest Put(const std::string& bytes) {
    return *cache::WriteBlob(cache_->blob_store(), bytes);
  }
  Digest MakeAction(const std::string& tag) {
    re::Command cmd;
    cmd.add_arguments("echo");
    cmd.add_arguments(tag);
    cmd.add_output_files("out.txt");
    re::Action a;
    *a.mutable_command_digest() = Put(cmd.SerializeAsString()).ToProto();
    *a.mutable_input_root_digest() =
        Put(re::Directory().SerializeAsString()).ToProto();
    return Put(a.SerializeAsString());
  }
  std::string OutputOf(const re::ActionResult& r) {
    if (r.output_files_size() != 1) return "<no output>";
    return cache::ReadBlob(cache_->blob_store(),
                           *Digest::FromProto(r.output_files(0).digest()))
        .value_or("<unreadable>");
  }

  struct Executed {
    re::ExecuteResponse response;
    grpc::Status status;
    std::string name;
  };
  Executed Execute(const Digest& action) {
    re::ExecuteRequest req;
    *req.mutable_action_digest() = action.ToProto();
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    auto reader = exec_->Execute(&ctx, req);
    Executed out;
    lr::Operation op;
    while (reader->Read(&op)) {
      out.name = op.name();
      if (op.done()) op.response().UnpackTo(&out.response);
    }
    out.status = reader->Finish();
    return out;
  }
  int Workers() { return coord_->scheduler().Stats().workers.size(); }

  // A BuildRequest for one empty project, edited by `edit`, to its end.
  grpc::Status SendBuild(
      const std::function<void(pbrx::farm::v1::BuildRequest&)>& edit) {
    namespace fv = pbrx::farm::v1;
    fv::BuildRequest req;
    fv::ProjectSource* p = req.add_projects();
    p->set_dir("proj");
    *p->mutable_root() = Put(re::Directory().SerializeAsString()).ToProto();
    edit(req);
    return Build(req, nullptr);
  }
  // Runs `req` to the end; `project_error` (optional) gets the last
  // project's error.
  grpc::Status Build(const pbrx::farm::v1::BuildRequest& req,
                     std::string* project_error) {
    namespace fv = pbrx::farm::v1;
    auto build = fv::Build::NewStub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    auto reader = build->BuildImages(&ctx, req);
    fv::BuildEvent e;
    while (reader->Read(&e)) {
      if (e.has_project() && project_error != nullptr)
        *project_error = e.project().error();
    }
    return reader->Finish();
  }

  int max_attempts_ = 3;
  absl::Duration build_timeout_ = absl::Hours(12);
  common::RealClock clock_;
  std::unique_ptr<cache::CacheServer> cache_;
  std::unique_ptr<coordinator::CoordinatorServer> coord_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<re::Execution::Stub> exec_;
};

TEST_F(FarmGlueTest, ExecutorReconnectsWithBackoffAfterACoordinatorRestart) {
  Executor e(coord_->address(), "e1", &cache_->blob_store());
  ASSERT_TRUE(Eventually([&] { return Workers() == 1; }));
  // 1.5 s without a coordinator: with backoff 50 ms doubling to 400 ms the
  // executor tries about 6 times (a tight loop would try hundreds).
  int64_t sessions_before = e.client().sessions();
  RestartCoordinator(absl::Milliseconds(1500));
  int64_t attempts = e.client().sessions() - sessions_before;
  EXPECT_GE(attempts, 3);
  EXPECT_LE(attempts, 9);
  // It registers with the new coordinator within one max backoff (+ slack)
  // and runs work there.
  ASSERT_TRUE(
      Eventually([&] { return Workers() == 1; }, absl::Milliseconds(2000)));
  Executed done = Execute(MakeAction("after-restart"));
  ASSERT_TRUE(done.status.ok()) << done.status.error_message();
  EXPECT_EQ(OutputOf(done.response.result()).substr(0, 3), "e1:");
}

TEST_F(FarmGlueTest, HeartbeatsKeepLeasesAliveWhileEverySlotIsBusy) {
  // Each run takes 3 s, five times the coordinator's 600 ms executor
  // timeout: only heartbeats sent while both slots are busy keep the
  // leases from being requeued.
  Executor e(coord_->address(), "busy", &cache_->blob_store(), /*slots=*/2);
  e.runner.run_time = absl::Seconds(3);
  ASSERT_TRUE(Eventually([&] { return Workers() == 1; }));
  Executed a, b;
  std::thread ta([&] { a = Execute(MakeAction("long-a")); });
  std::thread tb([&] { b = Execute(MakeAction("long-b")); });
  ta.join();
  tb.join();
  ASSERT_TRUE(a.status.ok()) << a.status.error_message();
  ASSERT_TRUE(b.status.ok()) << b.status.error_message();
  EXPECT_EQ(a.response.status().code(), 0);
  EXPECT_EQ(b.response.status().code(), 0);
  EXPECT_EQ(e.runner.started_, 2);  // each ran once
  EXPECT_EQ(coord_->metrics().RetryCount(), 0);
  EXPECT_EQ(e.client().sessions(), 0);  // the stream never broke
}

TEST_F(FarmGlueTest, StoppedExecutorCancelsItsRunAndTheLeaseMoves) {
  Executor first(coord_->address(), "first", &cache_->blob_store());
  first.runner.run_time = absl::Seconds(60);
  ASSERT_TRUE(Eventually([&] { return Workers() == 1; }));
  Executed done;
  std::thread client([&] { done = Execute(MakeAction("moved")); });
  ASSERT_TRUE(Eventually([&] { return first.runner.started_ == 1; }));
  Executor second(coord_->address(), "second", &cache_->blob_store());
  ASSERT_TRUE(Eventually([&] { return Workers() == 2; }));
  // SIGTERM on the first executor: Stop() returns once its run was
  // cancelled, long before the 60 s run would have ended.
  absl::Time t = absl::Now();
  first.Stop();
  EXPECT_LT(absl::Now() - t, absl::Seconds(5));
  EXPECT_EQ(first.runner.cancelled_, 1);
  EXPECT_EQ(first.runner.finished_, 0);
  client.join();
  ASSERT_TRUE(done.status.ok()) << done.status.error_message();
  EXPECT_EQ(done.response.status().code(), 0);
  EXPECT_EQ(OutputOf(done.response.result()).substr(0, 7), "second:");
  EXPECT_EQ(coord_->metrics().RetryCount(), 1);
}

TEST_F(FarmGlueTest, RetryCapEndsAnActionWhoseExecutorsKeepVanishing) {
  coord_->Shutdown(absl::ZeroDuration());
  max_attempts_ = 1;
  StartCoordinator("127.0.0.1:0");
  auto e = std::make_unique<Executor>(coord_->address(), "vanishing",
                                      &cache_->blob_store());
  e->runner.run_time = absl::Seconds(60);
  ASSERT_TRUE(Eventually([&] { return Workers() == 1; }));
  Executed done;
  std::thread client([&] { done = Execute(MakeAction("capped")); });
  ASSERT_TRUE(Eventually([&] { return e->runner.started_ == 1; }));
  e.reset();  // stops: the one allowed attempt is lost
  client.join();
  ASSERT_TRUE(done.status.ok()) << done.status.error_message();
  EXPECT_EQ(done.response.status().code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(done.response.status().message(), HasSubstr("vanishing"));
  EXPECT_THAT(done.response.status().message(), HasSubstr("1 attempt"));
}

TEST_F(FarmGlueTest, BuildWhoseClientLeavesDropsItsQueuedActions) {
  // FarmExecutor is how a build (BuildService) runs its steps; `cancelled`
  // is its client having gone away. No executor exists, so the steps wait
  // in the queue: one only this build wants, one another build wants too.
  coordinator::Scheduler& s = coord_->scheduler();
  std::atomic<bool> gone{false};
  coordinator::FarmExecutor leaving(
      &s, &cache_->blob_store(), &coord_->action_cache(), &coord_->metrics(),
      "build-leaving", [&] {
        return gone ? absl::CancelledError("the build was cancelled")
                    : absl::OkStatus();
      });
  coordinator::FarmExecutor staying(&s, &cache_->blob_store(),
                                    &coord_->action_cache(), &coord_->metrics(),
                                    "build-staying");
  Digest own = MakeAction("own"), shared = MakeAction("shared");
  absl::StatusOr<common::ActionOutcome> own_out, shared_out, stay_out;
  std::thread t1([&] { own_out = leaving.Run(own, {}); });
  std::thread t2([&] { shared_out = leaving.Run(shared, {}); });
  ASSERT_TRUE(Eventually([&] { return s.Stats().queued == 2; }));
  std::thread t3([&] { stay_out = staying.Run(shared, {}); });
  ASSERT_TRUE(
      Eventually([&] { return coord_->metrics().StepCount("joined") == 1; }));
  gone = true;
  t1.join();
  t2.join();
  EXPECT_EQ(own_out.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(shared_out.status().code(), absl::StatusCode::kCancelled);
  // The other build's step stays queued; the leaving build's own is gone.
  ASSERT_TRUE(Eventually([&] { return s.Stats().queued == 1; }));
  Executor e(coord_->address(), "late", &cache_->blob_store());
  t3.join();
  ASSERT_TRUE(stay_out.ok()) << stay_out.status();
  EXPECT_EQ(OutputOf(stay_out->result).substr(0, 5), "late:");
  EXPECT_EQ(e.runner.started_, 1);  // the dropped one never ran
}

TEST_F(FarmGlueTest, IndexCredentialsRideTheLeaseOfTheirStepOnly) {
  // A build's step with credentials (how resolve and fetch get them): the
  // executor that runs it receives them with the lease, never in the
  // Action; the other step of the same build and a plain REAPI Execute
  // get none.
  Executor e(coord_->address(), "e", &cache_->blob_store());
  ASSERT_TRUE(Eventually([&] { return Workers() == 1; }));
  coordinator::FarmExecutor build(&coord_->scheduler(), &cache_->blob_store(),
                                  &coord_->action_cache(), &coord_->metrics(),
                                  "build-1");
  const std::vector<common::HostCredential> creds = {
      {"idx.example", "ci-bot", "Lease-Only-7"}};
  common::ExecuteOptions with;
  with.credentials = creds;
  Digest secret_step = MakeAction("resolve"), plain_step = MakeAction("other");
  ASSERT_TRUE(build.Run(secret_step, with).ok());
  ASSERT_TRUE(build.Run(plain_step, {}).ok());
  Digest reapi = MakeAction("reapi");
  Executed done = Execute(reapi);
  ASSERT_TRUE(done.status.ok()) << done.status.error_message();
  EXPECT_EQ(e.runner.CredentialsOf(secret_step), creds);
  EXPECT_TRUE(e.runner.CredentialsOf(plain_step).empty());
  EXPECT_TRUE(e.runner.CredentialsOf(reapi).empty());
}

TEST_F(FarmGlueTest, ABuildPastItsDeadlineFailsClearly) {
  // --build-timeout 2s and no executor: the project's first step (its
  // Debian base) waits in the queue; at the deadline the build stops
  // waiting, the step is released (nothing stays queued) and the project
  // reports the deadline. The stream itself ends OK with the report.
  namespace fv = pbrx::farm::v1;
  build_timeout_ = absl::Seconds(2);
  RestartCoordinator(absl::ZeroDuration());
  re::Directory root;
  auto* f = root.add_files();
  f->set_name("pyproject.toml");
  *f->mutable_digest() = Put("[build-system]\nrequires = [\"setuptools\"]\n"
                             "build-backend = \"setuptools.build_meta\"\n"
                             "[project]\nname = \"late\"\nversion = \"1.0\"\n")
                             .ToProto();
  fv::BuildRequest req;
  fv::ProjectSource* p = req.add_projects();
  p->set_dir("late");
  *p->mutable_root() = Put(root.SerializeAsString()).ToProto();
  absl::Time start = absl::Now();
  std::string error;
  ASSERT_TRUE(Build(req, &error).ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_THAT(error, HasSubstr("the build ran past --build-timeout 2s"));
  EXPECT_EQ(coord_->scheduler().Stats().queued, 0);
}

TEST_F(FarmGlueTest, OperationsDoNotSurviveACoordinatorRestart) {
  // The coordinator keeps no state: an operation in flight when it stops is
  // gone. WaitExecution on the new coordinator answers NOT_FOUND naming it
  // (Bazel then executes again), and executing again runs the action.
  Executor e(coord_->address(), "e", &cache_->blob_store());
  e.runner.run_time = absl::Seconds(60);
  ASSERT_TRUE(Eventually([&] { return Workers() == 1; }));
  Digest action = MakeAction("in-flight");
  Executed first;
  std::thread client([&] { first = Execute(action); });
  ASSERT_TRUE(Eventually([&] { return e.runner.started_ == 1; }));
  ASSERT_EQ(coord_->scheduler().Stats().running, 1);
  RestartCoordinator(absl::ZeroDuration());
  client.join();
  EXPECT_FALSE(first.status.ok());  // the stream broke
  ASSERT_FALSE(first.name.empty());
  re::WaitExecutionRequest wait;
  wait.set_name(first.name);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto reader = exec_->WaitExecution(&ctx, wait);
  lr::Operation op;
  while (reader->Read(&op)) {
  }
  grpc::Status st = reader->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "no operation " + first.name);
  // The executor cancelled the run it could no longer report, reconnected,
  // and takes the new lease when the client executes again.
  EXPECT_TRUE(Eventually([&] { return e.runner.cancelled_ == 1; }));
  e.runner.run_time = absl::ZeroDuration();
  ASSERT_TRUE(Eventually([&] { return Workers() == 1; }));
  Executed again = Execute(action);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(OutputOf(again.response.result()).substr(0, 2), "e:");
}

TEST_F(FarmGlueTest, HostileBuildRequestFieldsAreRefusedBeforeAnythingRuns) {
  // A BuildRequest is any peer's text: the fields that become arguments
  // are checked as the CLI's flags are, and nothing they carry runs.
  namespace fv = pbrx::farm::v1;
  std::string canary = testing_util::NewTempDir("canary") + "/pwned";
  auto send = [&](const std::function<void(fv::BuildRequest&)>& edit) {
    return SendBuild(edit);
  };
  grpc::Status st = send([&](fv::BuildRequest& r) {
    r.set_base("debian:bookworm;touch " + canary + ";#");
  });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(),
            "BuildRequest.base 'debian:bookworm;touch " + canary +
                ";#': Debian suite 'bookworm;touch " + canary +
                ";#' is not a suite name ([a-z][a-z0-9.+-], at most 64)");
  st = send([&](fv::BuildRequest& r) {
    r.set_base("oci:");
    r.set_base_ref("x;touch " + canary);
  });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "BuildRequest.base_ref 'x;touch " + canary +
                                    "': not an image reference name");
  st =
      send([&](fv::BuildRequest& r) { r.add_tags("$(touch " + canary + ")"); });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  st =
      send([&](fv::BuildRequest& r) { r.set_index_url("file:///etc/shadow"); });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(access(canary.c_str(), F_OK), 0) << "a request field ran";
  // The coordinator still serves.
  Executor e(coord_->address(), "after", &cache_->blob_store());
  Executed done = Execute(MakeAction("still-serving"));
  ASSERT_TRUE(done.status.ok()) << done.status.error_message();
  EXPECT_EQ(done.response.status().code(), 0);
}

TEST_F(FarmGlueTest, AProjectIsReadFromTheCasNotStagedOnTheCoordinator) {
  // The planner reads the uploaded tree in the CAS (a symlink out of it is
  // refused as on disk, naming the client's directory); staging it to the
  // coordinator's disk would have refused the whole tree with another
  // message.
  namespace fv = pbrx::farm::v1;
  re::Directory root;
  auto* link = root.add_symlinks();
  link->set_name("setup.cfg");
  link->set_target("/etc/passwd");
  fv::BuildRequest req;
  fv::ProjectSource* p = req.add_projects();
  p->set_dir("proj");
  *p->mutable_root() = Put(root.SerializeAsString()).ToProto();
  std::string error;
  ASSERT_TRUE(Build(req, &error).ok());
  EXPECT_EQ(error,
            "proj/setup.cfg: leaves proj (through a symlink or '..'); files "
            "are read only beneath it");
}

TEST_F(FarmGlueTest, InputsNamedByDigestMustBeInTheCas) {
  // find-links, constraints and an oci: base layout are read from the CAS
  // by digest, never staged: one the client did not upload is refused
  // before anything runs, naming it.
  namespace fv = pbrx::farm::v1;
  Digest ghost = Digest::Of("never uploaded");
  auto send = [&](const std::function<void(fv::BuildRequest&)>& edit) {
    return SendBuild(edit);
  };
  grpc::Status st = send(
      [&](fv::BuildRequest& r) { *r.mutable_find_links() = ghost.ToProto(); });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(),
            "find-links tree " + ghost.ToString() + " is not in the CAS");
  st = send([&](fv::BuildRequest& r) {
    fv::NamedBlob* c = r.add_constraints();
    c->set_name("/home/me/lock.txt");
    *c->mutable_digest() = ghost.ToProto();
  });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(), "constraints file /home/me/lock.txt " +
                                    ghost.ToString() + " is not in the CAS");
  st = send([&](fv::BuildRequest& r) {
    r.set_base("oci:/home/me/base");
    *r.mutable_base_layout() = ghost.ToProto();
  });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(),
            "the base layout " + ghost.ToString() + " is not in the CAS");
  st = send([&](fv::BuildRequest& r) { r.set_base("oci:/home/me/base"); });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(),
            "an oci: base needs its layout uploaded (base_layout)");
}

}  // namespace
}  // namespace pbrx
