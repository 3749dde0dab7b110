// Every daemon that serves gRPC answers the standard health service and
// server reflection, asked by real clients over loopback: pbrx-cache and
// pbrx-coordinator say SERVING while up, list their services through
// reflection, and during --drain-period after SIGTERM say NOT_SERVING while
// still answering; then they exit 0.
#include <signal.h>
#include <sys/wait.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/health_probe.grpc.pb.h"
#include "proto/reflection_probe.grpc.pb.h"
#include "tests/subprocess.h"
#include "tests/test_util.h"

namespace pbrx {
namespace {

namespace health = grpc::health::v1;
namespace reflection = grpc::reflection::v1alpha;
using testing_util::Subprocess;

health::HealthCheckResponse::ServingStatus Check(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
    grpc::Status* status) {
  auto stub = health::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  health::HealthCheckRequest req;
  req.set_service(service);
  health::HealthCheckResponse resp;
  *status = stub->Check(&ctx, req, &resp);
  return resp.status();
}

std::set<std::string> ListServices(
    const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = reflection::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto stream = stub->ServerReflectionInfo(&ctx);
  reflection::ServerReflectionRequest req;
  req.set_list_services("");
  std::set<std::string> out;
  if (!stream->Write(req)) return out;
  stream->WritesDone();
  reflection::ServerReflectionResponse resp;
  while (stream->Read(&resp)) {
    for (const auto& s : resp.list_services_response().service())
      out.insert(s.name());
  }
  EXPECT_TRUE(stream->Finish().ok());
  return out;
}

struct Daemon {
  std::string name;
  std::vector<std::string> argv;
  std::vector<std::string> services;  // some it must list
};

void ExpectHealthAndDrain(const Daemon& d) {
  SCOPED_TRACE(d.name);
  Subprocess p;
  const std::string log = testing_util::NewTempDir("health") + "/stderr";
  ASSERT_TRUE(p.Start(d.argv, log).ok());
  absl::StatusOr<std::string> address = p.ReadLine(absl::Seconds(30));
  ASSERT_TRUE(address.ok()) << testing_util::ReadFile(log);
  auto channel =
      grpc::CreateChannel(*address, grpc::InsecureChannelCredentials());
  grpc::Status s;
  EXPECT_EQ(Check(channel, "", &s), health::HealthCheckResponse::SERVING);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // A service the daemon does not have is NOT_FOUND, as the protocol says.
  Check(channel, "no.such.Service", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  std::set<std::string> listed = ListServices(channel);
  EXPECT_TRUE(listed.count("grpc.health.v1.Health")) << listed.size();
  for (const std::string& want : d.services)
    EXPECT_TRUE(listed.count(want)) << want;

  // SIGTERM: draining (3 s): still answering, NOT_SERVING.
  ASSERT_EQ(kill(p.pid(), SIGTERM), 0);
  health::HealthCheckResponse::ServingStatus seen =
      health::HealthCheckResponse::SERVING;
  for (int i = 0; i < 40 && seen == health::HealthCheckResponse::SERVING; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    seen = Check(channel, "", &s);
  }
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(seen, health::HealthCheckResponse::NOT_SERVING);
  absl::StatusOr<int> exit = p.Stop(SIGTERM, absl::Seconds(30));
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << *exit;
  EXPECT_NE(
      testing_util::ReadFile(log).find("draining for 3s (health: NOT_SERVING)"),
      std::string::npos)
      << testing_util::ReadFile(log);
}

TEST(DaemonHealthTest, TheCacheSaysServingListsItsServicesAndDrains) {
  const std::string dir = testing_util::NewTempDir("cache");
  ExpectHealthAndDrain(
      {"pbrx-cache",
       {testing_util::RunfilePath("cache/pbrx-cache"), "--listen=127.0.0.1:0",
        "--data-dir=" + dir + "/db", "--drain-period=3s"},
       {"build.bazel.remote.execution.v2.ContentAddressableStorage",
        "build.bazel.remote.execution.v2.ActionCache",
        "google.bytestream.ByteStream"}});
}

TEST(DaemonHealthTest, TheCoordinatorSaysServingListsItsServicesAndDrains) {
  const std::string dir = testing_util::NewTempDir("cache");
  Subprocess cache;
  ASSERT_TRUE(cache
                  .Start({testing_util::RunfilePath("cache/pbrx-cache"),
                          "--listen=127.0.0.1:0", "--data-dir=" + dir + "/db"},
                         dir + "/cache.err")
                  .ok());
  absl::StatusOr<std::string> cache_address = cache.ReadLine(absl::Seconds(30));
  ASSERT_TRUE(cache_address.ok());
  ExpectHealthAndDrain(
      {"pbrx-coordinator",
       {testing_util::RunfilePath("coordinator/pbrx-coordinator"),
        "--listen=127.0.0.1:0", "--cache=grpc://" + *cache_address,
        "--drain-period=3s"},
       {"build.bazel.remote.execution.v2.Execution", "pbrx.farm.v1.Build"}});
}

}  // namespace
}  // namespace pbrx
