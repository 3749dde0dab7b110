// pbrx-executor (the real binary) stopped with SIGTERM while a step runs:
// it exits 0 within 5 s, the step's processes are gone (nothing of the
// sandbox outlives the daemon), its run directory and cgroups are removed,
// and the coordinator sees the executor leave.
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/cache_server.h"
#include "coordinator/coordinator_server.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_util.h"

namespace pbrx {
namespace {

namespace re = build::bazel::remote::execution::v2;
namespace lr = google::longrunning;
using common::Digest;
using ::testing::HasSubstr;

// PIDs of `sleep MARKER` processes (bwrap's own command line holds the
// marker too: only the sleeps count).
std::vector<pid_t> SleepsWithArgument(const std::string& marker) {
  std::vector<pid_t> found;
  DIR* d = opendir("/proc");
  if (d == nullptr) return found;
  while (dirent* e = readdir(d)) {
    pid_t pid = atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream in(absl::StrCat("/proc/", pid, "/cmdline"));
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<std::string> args = absl::StrSplit(ss.str(), '\0');
    if (args.size() >= 2 && args[0] == "sleep" && args[1] == marker)
      found.push_back(pid);
  }
  closedir(d);
  return found;
}

// Directories named pbrx-<pid>-* under `root`, `depth` levels down.
int CgroupsOf(pid_t pid, const std::string& root, int depth) {
  int n = 0;
  DIR* d = opendir(root.c_str());
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (e->d_type != DT_DIR || name == "." || name == "..") continue;
    if (absl::StartsWith(name, absl::StrCat("pbrx-", pid, "-"))) ++n;
    if (depth > 0) n += CgroupsOf(pid, root + "/" + name, depth - 1);
  }
  closedir(d);
  return n;
}

bool Eventually(const std::function<bool()>& done, absl::Duration limit) {
  absl::Time end = absl::Now() + limit;
  while (absl::Now() < end) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return done();
}

TEST(ExecutorStopTest, SigtermKillsTheRunningSandboxWithinFiveSeconds) {
  common::RealClock clock;
  cache::CacheServerOptions co;
  co.data_dir = testing_util::NewTempDir("stop-cache");
  auto cache = std::move(cache::CacheServer::Create(co, &clock)).value();
  ASSERT_TRUE(cache->Start().ok());
  coordinator::CoordinatorServerOptions o;
  o.listen = "127.0.0.1:0";
  o.cache = "grpc://" + cache->address();
  o.scheduler.worker_timeout = absl::Seconds(2);
  o.scheduler.heartbeat_interval = absl::Milliseconds(200);
  auto coord =
      std::move(coordinator::CoordinatorServer::Create(o, &clock)).value();
  ASSERT_TRUE(coord->Start().ok());

  std::string work = testing_util::NewTempDir("stop-exec");
  std::string log = work + ".log";
  testing_util::Subprocess executor;
  ASSERT_TRUE(executor
                  .Start({testing_util::RunfilePath("executor/pbrx-executor"),
                          "--coordinator=grpc://" + coord->address(),
                          "--cache=grpc://" + cache->address(),
                          "--work-dir=" + work, "--name=stopping"},
                         log)
                  .ok());
  ASSERT_TRUE(
      Eventually([&] { return coord->scheduler().Stats().workers.size() == 1; },
                 absl::Seconds(30)))
      << testing_util::ReadFile(log);

  // A step that would run for ten minutes, forking a child as builds do.
  const std::string marker = absl::StrCat("601.", getpid());
  re::Command cmd;
  for (const char* a : {"sh", "-c", "sleep \"$1\" & sleep \"$1\"", "sh"})
    cmd.add_arguments(a);
  cmd.add_arguments(marker);
  auto* path = cmd.add_environment_variables();
  path->set_name("PATH");
  path->set_value("/usr/bin:/bin");
  cache::BlobStore& cas = cache->blob_store();
  re::Action action;
  *action.mutable_command_digest() =
      cache::WriteBlob(cas, cmd.SerializeAsString())->ToProto();
  *action.mutable_input_root_digest() =
      cache::WriteBlob(cas, re::Directory().SerializeAsString())->ToProto();
  Digest action_digest = *cache::WriteBlob(cas, action.SerializeAsString());

  auto stub = re::Execution::NewStub(grpc::CreateChannel(
      coord->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  // Whatever an assertion below does, the client call ends and is joined.
  struct Joiner {
    grpc::ClientContext& ctx;
    std::thread thread;
    ~Joiner() {
      ctx.TryCancel();
      if (thread.joinable()) thread.join();
    }
  } client{ctx, std::thread([&] {
             re::ExecuteRequest req;
             *req.mutable_action_digest() = action_digest.ToProto();
             auto reader = stub->Execute(&ctx, req);
             lr::Operation op;
             while (reader->Read(&op)) {
             }
             reader->Finish();
           })};
  ASSERT_TRUE(Eventually([&] { return SleepsWithArgument(marker).size() == 2; },
                         absl::Seconds(30)))
      << testing_util::ReadFile(log);
  EXPECT_GT(CgroupsOf(executor.pid(), "/sys/fs/cgroup", 6), 0)
      << "the step runs in cgroups named after the executor";

  pid_t executor_pid = executor.pid();
  absl::StatusOr<int> status = executor.Stop(SIGTERM, absl::Seconds(5));
  ASSERT_TRUE(status.ok()) << status.status() << "\n"
                           << testing_util::ReadFile(log);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
  // Nothing of the step is left: no process, no cgroup, no run dir.
  EXPECT_THAT(SleepsWithArgument(marker), ::testing::IsEmpty());
  EXPECT_EQ(CgroupsOf(executor_pid, "/sys/fs/cgroup", 6), 0);
  std::vector<std::string> runs;
  if (DIR* d = opendir((work + "/runs").c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') runs.push_back(e->d_name);
    }
    closedir(d);
  }
  EXPECT_THAT(runs, ::testing::IsEmpty());
  EXPECT_THAT(testing_util::ReadFile(log),
              HasSubstr("pbrx-executor: received signal 15, shutting down"));
  EXPECT_THAT(testing_util::ReadFile(log),
              HasSubstr("pbrx-executor: stopped cleanly"));
  EXPECT_TRUE(
      Eventually([&] { return coord->scheduler().Stats().workers.empty(); },
                 absl::Seconds(10)));

  ctx.TryCancel();
  client.thread.join();
  coord->Shutdown(absl::Seconds(1));
  cache->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace pbrx
