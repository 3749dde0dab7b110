// Every daemon that serves gRPC answers the standard health service and
// server reflection, asked by real clients over loopback: pbrx-cache and
// pbrx-coordinator say SERVING while up, list their services through
// reflection, and during --drain-period after SIGTERM say NOT_SERVING while
// still answering; then they exit 0. Each tells systemd (a datagram socket
// at $NOTIFY_SOCKET, as Type=notify gives) READY=1 once it serves and
// STOPPING=1 at SIGTERM.
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
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

// A datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    EXPECT_EQ(
        bind(fd_, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)), 0);
    struct timeval tv = {10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~NotifySocket() { close(fd_); }
  // The next message, or "" after 10 s.
  std::string Next() {
    char buf[512];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  int fd_ = -1;
};

void ExpectHealthAndDrain(const Daemon& d) {
  SCOPED_TRACE(d.name);
  Subprocess p;
  const std::string dir = testing_util::NewTempDir("health");
  const std::string log = dir + "/stderr";
  // Short: TEST_TMPDIR paths can pass sun_path's 108 bytes.
  char short_dir[] = "/tmp/pbrx-notify-XXXXXX";
  ASSERT_NE(mkdtemp(short_dir), nullptr);
  const std::string socket_path = std::string(short_dir) + "/s";
  NotifySocket notify(socket_path);
  setenv("NOTIFY_SOCKET", socket_path.c_str(), 1);
  ASSERT_TRUE(p.Start(d.argv, log).ok());
  unsetenv("NOTIFY_SOCKET");
  absl::StatusOr<std::string> address = p.ReadLine(absl::Seconds(30));
  ASSERT_TRUE(address.ok()) << testing_util::ReadFile(log);
  EXPECT_EQ(notify.Next(), "READY=1");
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
  EXPECT_EQ(notify.Next(), "STOPPING=1");
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
  unlink(socket_path.c_str());
  rmdir(short_dir);
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

// -v and --log-format=json from a --config file: every stderr line is one
// JSON object; each request is logged at debug with the REAPI
// RequestMetadata the client sent (as Bazel sends it).
TEST(DaemonLoggingTest, DebugLinesNameEachRequestWithItsMetadata) {
  namespace re = build::bazel::remote::execution::v2;
  const std::string dir = testing_util::NewTempDir("logging");
  {
    FILE* f = std::fopen((dir + "/cache.toml").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f,
                 "listen = \"127.0.0.1:0\"\ndata_dir = \"%s/db\"\n"
                 "log-format = \"json\"\n",
                 dir.c_str());
    std::fclose(f);
  }
  Subprocess p;
  const std::string log = dir + "/stderr";
  ASSERT_TRUE(p.Start({testing_util::RunfilePath("cache/pbrx-cache"),
                       "--config", dir + "/cache.toml", "-v"},
                      log)
                  .ok());
  absl::StatusOr<std::string> address = p.ReadLine(absl::Seconds(30));
  ASSERT_TRUE(address.ok()) << testing_util::ReadFile(log);
  auto stub = re::ActionCache::NewStub(
      grpc::CreateChannel(*address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  re::RequestMetadata md;
  md.mutable_tool_details()->set_tool_name("bazel");
  md.mutable_tool_details()->set_tool_version("4.2.3");
  md.set_tool_invocation_id("inv-7");
  md.set_action_mnemonic("Genrule");
  ctx.AddMetadata("build.bazel.remote.execution.v2.requestmetadata-bin",
                  md.SerializeAsString());
  re::GetActionResultRequest req;
  req.set_instance_name("team-a");
  req.mutable_action_digest()->set_hash(std::string(64, 'a'));
  req.mutable_action_digest()->set_size_bytes(1);
  re::ActionResult resp;
  EXPECT_EQ(stub->GetActionResult(&ctx, req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
  absl::StatusOr<int> exit = p.Stop(SIGTERM, absl::Seconds(30));
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << *exit;
  const std::string text = testing_util::ReadFile(log);
  int lines = 0;
  bool logged = false;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    ++lines;
    EXPECT_TRUE(absl::StartsWith(line, "{\"ts\":\"") &&
                absl::EndsWith(line, "\"}"))
        << line;
    if (absl::StrContains(line, "\"level\":\"debug\"") &&
        absl::StrContains(line,
                          "request ActionCache.GetActionResult "
                          "instance=team-a peer=ipv4:127.0.0.1:") &&
        absl::StrContains(line,
                          " tool=bazel/4.2.3 invocation=inv-7 "
                          "mnemonic=Genrule\"}")) {
      logged = true;
    }
  }
  EXPECT_GT(lines, 2);
  EXPECT_TRUE(logged) << text;
}

}  // namespace
}  // namespace pbrx
