// What TLS and bearer tokens cost: GetActionResult latency (p50/p99/p99.9)
// at a steady open-loop rate against the real pbrx-cache, once plaintext
// and unauthenticated (the baseline) and once with TLS (a P-256 certificate
// from openssl) and a token checked per call, in the same run. Each client
// keeps its connection, as Bazel and pbrx do (handshakes are counted in a
// separate row: new connection + first call).
// Usage: bazel run -c opt //tools/bench:tls_latency_bench -- [--rate=1000]
//        [--seconds=10] [--work-dir=DIR]
// Needs openssl on PATH. Prints a table.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "common/digest.h"
#include "common/flag_parser.h"
#include "common/grpc_channel.h"
#include "common/sha256.h"
#include "grpcpp/grpcpp.h"
#include "tests/subprocess.h"
#include "tests/test_pki.h"
#include "tools/bench/open_loop.h"

namespace pbrx::bench {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

constexpr char kToken[] = "bench-token-7f3a9c1e5b";

void Die(const std::string& why) {
  std::fprintf(stderr, "tls_latency_bench: %s\n", why.c_str());
  std::exit(1);
}

struct Server {
  testing_util::Subprocess proc;
  std::string url;
  common::ChannelOptions channel;
};

void Start(Server& s, const std::string& bin, std::vector<std::string> args,
           bool tls) {
  std::vector<std::string> argv = {bin, "--listen=127.0.0.1:0", "--quiet"};
  argv.insert(argv.end(), args.begin(), args.end());
  if (!s.proc.Start(argv).ok()) Die("cannot start " + bin);
  absl::StatusOr<std::string> line = s.proc.ReadLine(absl::Seconds(30));
  if (!line.ok()) Die("no address from " + bin);
  s.url = absl::StrCat(tls ? "grpcs://" : "grpc://", *line);
}

std::unique_ptr<re::ActionCache::Stub> Stub(const Server& s) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      common::MakeChannel(s.url, s.channel);
  if (!channel.ok()) Die(std::string(channel.status().message()));
  return re::ActionCache::NewStub(*channel);
}

// 200 Action Cache entries (hits), written through the server itself.
std::vector<Digest> Fill(const Server& s) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      common::MakeChannel(s.url, s.channel);
  if (!channel.ok()) Die(std::string(channel.status().message()));
  auto cas = re::ContentAddressableStorage::NewStub(*channel);
  auto ac = re::ActionCache::NewStub(*channel);
  std::vector<Digest> actions;
  for (int i = 0; i < 200; ++i) {
    const std::string out = absl::StrCat("output ", i);
    grpc::ClientContext c1;
    re::BatchUpdateBlobsRequest up;
    auto* r = up.add_requests();
    *r->mutable_digest() = Digest::Of(out).ToProto();
    r->set_data(out);
    re::BatchUpdateBlobsResponse upr;
    if (!cas->BatchUpdateBlobs(&c1, up, &upr).ok()) Die("cannot fill the CAS");
    const Digest action = Digest::Of(absl::StrCat("action ", i));
    grpc::ClientContext c2;
    re::UpdateActionResultRequest req;
    *req.mutable_action_digest() = action.ToProto();
    auto* f = req.mutable_action_result()->add_output_files();
    f->set_path("out");
    *f->mutable_digest() = Digest::Of(out).ToProto();
    re::ActionResult res;
    grpc::Status st = ac->UpdateActionResult(&c2, req, &res);
    if (!st.ok()) Die("cannot fill the Action Cache: " + st.error_message());
    actions.push_back(action);
  }
  return actions;
}

struct Row {
  double p50 = 0, p99 = 0, p999 = 0, achieved = 0, connect_p50 = 0;
  int64_t errors = 0;
};

Row Measure(const Server& s, int clients, int64_t rate,
            absl::Duration duration) {
  const std::vector<Digest> actions = Fill(s);
  std::vector<std::unique_ptr<re::ActionCache::Stub>> stubs;
  for (int c = 0; c < clients; ++c) stubs.push_back(Stub(s));
  auto get = [&](re::ActionCache::Stub& stub, int64_t i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    re::GetActionResultRequest req;
    *req.mutable_action_digest() = actions[i % actions.size()].ToProto();
    re::ActionResult res;
    return stub.GetActionResult(&ctx, req, &res).ok();
  };
  for (int c = 0; c < clients; ++c) get(*stubs[c], c);  // connect first
  OpenLoopResult load =
      RunOpenLoop(clients, rate, duration,
                  [&](int c, int64_t i) { return get(*stubs[c], c * 7 + i); });
  Row row;
  row.p50 = Percentile(load.latencies_us, 0.50);
  row.p99 = Percentile(load.latencies_us, 0.99);
  row.p999 = Percentile(load.latencies_us, 0.999);
  row.achieved = load.achieved_rate;
  row.errors = load.errors;
  // A fresh connection (channel args differ, so no subchannel is shared)
  // and its first call, 50 times.
  std::vector<double> connects;
  for (int i = 0; i < 50; ++i) {
    common::ChannelOptions o = s.channel;
    o.keepalive = absl::Seconds(30) + absl::Milliseconds(i);
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        common::MakeChannel(s.url, o);
    if (!channel.ok()) Die(std::string(channel.status().message()));
    auto stub = re::ActionCache::NewStub(*channel);
    absl::Time t = absl::Now();
    if (!get(*stub, i)) ++row.errors;
    connects.push_back(absl::ToDoubleMicroseconds(absl::Now() - t));
  }
  row.connect_p50 = Percentile(connects, 0.50);
  return row;
}

int Main(int argc, char** argv) {
  std::string work_dir = "/tmp/pbrx-tls-bench";
  int64_t rate = 1000;
  int64_t clients = 8;
  absl::Duration duration = absl::Seconds(10);
  std::string cache_bin = "cache/pbrx-cache";
  common::FlagParser flags("tls_latency_bench");
  flags.AddString("work-dir", &work_dir, "scratch directory");
  flags.AddInt("rate", &rate, "GetActionResult calls per second in all");
  flags.AddInt("clients", &clients, "concurrent clients (one connection each)");
  flags.AddDuration("seconds", &duration, "duration of each run");
  flags.AddString("cache-bin", &cache_bin, "path of pbrx-cache");
  bool help = false;
  absl::Status parsed = flags.Parse(argc, argv, &help);
  if (help) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.ok() || rate < 1 || clients < 1) {
    std::fprintf(stderr, "tls_latency_bench: %s (see --help)\n",
                 parsed.ok() ? "--rate and --clients must be positive"
                             : std::string(parsed.message()).c_str());
    return 2;
  }
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);
  std::filesystem::create_directories(work_dir + "/pki", ec);
  const std::string pki = work_dir + "/pki";
  for (absl::Status s : {testing_util::MakeCa(pki, "ca"),
                         testing_util::MakeCert(pki, "ca", "server")}) {
    if (!s.ok()) Die(std::string(s.message()));
  }
  std::ofstream(work_dir + "/tokens")
      << common::Sha256::HexOf(kToken) << " write\n";

  Server plain, secure;
  Start(plain, cache_bin, {"--data-dir=" + work_dir + "/plain"}, false);
  Start(secure, cache_bin,
        {"--data-dir=" + work_dir + "/tls",
         "--tls-cert=" + work_dir + "/pki/server.pem",
         "--tls-key=" + work_dir + "/pki/server.key",
         "--auth-tokens=" + work_dir + "/tokens"},
        true);
  secure.channel.tls.ca_file = work_dir + "/pki/ca.pem";
  secure.channel.token = kToken;

  const Row base = Measure(plain, static_cast<int>(clients), rate, duration);
  const Row tls = Measure(secure, static_cast<int>(clients), rate, duration);
  plain.proc.Stop(SIGTERM, absl::Seconds(30)).IgnoreError();
  secure.proc.Stop(SIGTERM, absl::Seconds(30)).IgnoreError();

  std::printf(
      "GetActionResult against pbrx-cache, %lld req/s from %lld "
      "clients for %s (%s)\n\n",
      static_cast<long long>(rate), static_cast<long long>(clients),
      absl::FormatDuration(duration).c_str(),
      absl::FormatTime(absl::Now()).c_str());
  std::printf("| %-34s | %14s | %16s | %6s |\n| --- | --- | --- | --- |\n",
              "measure", "plaintext", "TLS + token", "ratio");
  auto line = [](const char* name, double a, double b, const char* unit) {
    std::printf("| %-34s | %11.0f %s | %13.0f %s | %6.2f |\n", name, a, unit, b,
                unit, a > 0 ? b / a : 0);
  };
  line("p50", base.p50, tls.p50, "us");
  line("p99", base.p99, tls.p99, "us");
  line("p99.9", base.p999, tls.p999, "us");
  line("achieved rate", base.achieved, tls.achieved, "/s");
  line("new connection + first call (p50)", base.connect_p50, tls.connect_p50,
       "us");
  std::printf("| %-34s | %14lld | %16lld | %6s |\n", "errors",
              static_cast<long long>(base.errors),
              static_cast<long long>(tls.errors), "-");
  return base.errors + tls.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace pbrx::bench

int main(int argc, char** argv) { return pbrx::bench::Main(argc, argv); }
