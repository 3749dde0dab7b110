// Scheduler throughput: no-op actions per second through REAPI Execute on a
// real CoordinatorServer (gRPC over loopback, cache in RocksDB), with 64
// in-process executors speaking the Worker API that complete every lease at
// once; and submit-to-lease latency (Execute sent -> lease received by an
// executor). Baseline in the same run: plain unary gRPC round trips
// (Capabilities.GetCapabilities) at the same client concurrency.
//
//   bazel run -c opt //tools/bench:scheduler_bench -- [--actions=N]
//       [--clients=N] [--executors=N]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/cache_server.h"
#include "common/clock.h"
#include "common/flag_parser.h"
#include "common/logging.h"
#include "coordinator/coordinator_server.h"
#include "grpcpp/grpcpp.h"
#include "proto/farm.grpc.pb.h"

namespace pbrx::bench {
namespace {

namespace re = build::bazel::remote::execution::v2;
namespace fv = pbrx::farm::v1;
using common::Digest;

std::string TempDir(const std::string& what) {
  char tmpl[] = "/tmp/pbrx-bench-XXXXXX";
  std::string d = mkdtemp(tmpl);
  return d + "/" + what;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  return v[i];
}

int Run(int argc, char** argv) {
  int64_t actions = 5000, clients = 64, executors = 64;
  common::FlagParser flags("scheduler_bench");
  flags.AddInt("actions", &actions, "no-op actions to execute");
  flags.AddInt("clients", &clients, "concurrent Execute callers");
  flags.AddInt("executors", &executors, "in-process executors (1 slot each)");
  bool help = false;
  if (absl::Status s = flags.Parse(argc, argv, &help); !s.ok() || help) {
    std::fprintf(stderr, "%s\n%s", std::string(s.message()).c_str(),
                 flags.Usage().c_str());
    return help ? 0 : 2;
  }
  common::SetInfoLogging(false);
  common::RealClock clock;
  cache::CacheServerOptions co;
  co.data_dir = TempDir("cache");
  auto cache = std::move(cache::CacheServer::Create(co, &clock)).value();
  if (!cache->Start().ok()) return 1;
  coordinator::CoordinatorServerOptions o;
  o.cache = "grpc://" + cache->address();
  auto coord =
      std::move(coordinator::CoordinatorServer::Create(o, &clock)).value();
  if (!coord->Start().ok()) return 1;

  // The actions: distinct commands over one empty input root.
  std::vector<Digest> digests;
  Digest empty_dir = *cache::WriteBlob(cache->blob_store(),
                                       re::Directory().SerializeAsString());
  for (int64_t i = 0; i < actions; ++i) {
    re::Command c;
    c.add_arguments("true");
    c.add_arguments(absl::StrCat(i));
    re::Action a;
    *a.mutable_command_digest() =
        cache::WriteBlob(cache->blob_store(), c.SerializeAsString())->ToProto();
    *a.mutable_input_root_digest() = empty_dir.ToProto();
    digests.push_back(
        *cache::WriteBlob(cache->blob_store(), a.SerializeAsString()));
  }

  absl::Mutex mu;
  std::map<std::string, absl::Time> sent;  // action hash -> Execute sent
  std::vector<double> submit_to_lease_ms;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  for (int64_t e = 0; e < executors; ++e)
    contexts.push_back(std::make_unique<grpc::ClientContext>());
  for (int64_t e = 0; e < executors; ++e) {
    workers.emplace_back([&, e] {
      auto channel = grpc::CreateChannel(coord->address(),
                                         grpc::InsecureChannelCredentials());
      auto stub = fv::Worker::NewStub(channel);
      auto stream = stub->Work(contexts[e].get());
      fv::WorkerMessage reg;
      reg.mutable_register_()->set_name(absl::StrCat("bench-", e));
      reg.mutable_register_()->set_slots(1);
      stream->Write(reg);
      fv::CoordinatorMessage m;
      while (stream->Read(&m)) {
        if (!m.has_lease()) continue;
        absl::Time now = absl::Now();
        {
          absl::MutexLock lock(&mu);
          auto it = sent.find(m.lease().action_digest().hash());
          if (it != sent.end())
            submit_to_lease_ms.push_back(
                absl::ToDoubleMilliseconds(now - it->second));
        }
        fv::WorkerMessage done;
        done.mutable_completion()->set_lease_id(m.lease().lease_id());
        done.mutable_completion()->mutable_result()->set_exit_code(0);
        if (!stream->Write(done)) break;
      }
    });
  }
  while (coord->scheduler().Stats().workers.size() <
         static_cast<size_t>(executors)) {
    absl::SleepFor(absl::Milliseconds(10));
  }

  auto run_clients = [&](const std::function<bool(int64_t)>& one) {
    std::atomic<int64_t> next{0}, failures{0};
    absl::Time start = absl::Now();
    std::vector<std::thread> ts;
    for (int64_t c = 0; c < clients; ++c) {
      ts.emplace_back([&] {
        for (int64_t i = next++; i < actions; i = next++) {
          if (!one(i)) ++failures;
        }
      });
    }
    for (auto& t : ts) t.join();
    double secs = absl::ToDoubleSeconds(absl::Now() - start);
    return std::make_pair(secs, failures.load());
  };

  auto channel =
      grpc::CreateChannel(coord->address(), grpc::InsecureChannelCredentials());
  auto caps = re::Capabilities::NewStub(channel);
  auto [base_secs, base_fail] = run_clients([&](int64_t) {
    grpc::ClientContext ctx;
    re::ServerCapabilities out;
    return caps->GetCapabilities(&ctx, re::GetCapabilitiesRequest(), &out).ok();
  });

  auto exec = re::Execution::NewStub(channel);
  auto [exec_secs, exec_fail] = run_clients([&](int64_t i) {
    re::ExecuteRequest req;
    *req.mutable_action_digest() = digests[i].ToProto();
    {
      absl::MutexLock lock(&mu);
      sent[digests[i].hash()] = absl::Now();
    }
    grpc::ClientContext ctx;
    auto reader = exec->Execute(&ctx, req);
    google::longrunning::Operation op;
    bool done = false;
    while (reader->Read(&op)) done = done || op.done();
    return reader->Finish().ok() && done;
  });

  std::printf(
      "scheduler_bench: %lld no-op actions, %lld clients, %lld "
      "executors (1 slot each)\n\n",
      static_cast<long long>(actions), static_cast<long long>(clients),
      static_cast<long long>(executors));
  std::printf("| what | ops/s | failures |\n| --- | --- | --- |\n");
  std::printf("| baseline: GetCapabilities round trips | %.0f | %lld |\n",
              actions / base_secs, static_cast<long long>(base_fail));
  std::printf(
      "| Execute (AC miss, admit, queue, lease, complete, AC write) "
      "| %.0f | %lld |\n",
      actions / exec_secs, static_cast<long long>(exec_fail));
  {
    absl::MutexLock lock(&mu);
    std::printf(
        "\nsubmit-to-lease latency over %zu leases: p50 %.2f ms, "
        "p99 %.2f ms, max %.2f ms\n",
        submit_to_lease_ms.size(), Percentile(submit_to_lease_ms, 0.50),
        Percentile(submit_to_lease_ms, 0.99),
        Percentile(submit_to_lease_ms, 1.0));
  }
  for (auto& c : contexts) c->TryCancel();
  for (auto& t : workers) t.join();
  coord->Shutdown(absl::Seconds(1));
  cache->Shutdown(absl::Seconds(1));
  return exec_fail == 0 ? 0 : 1;
}

}  // namespace
}  // namespace pbrx::bench

int main(int argc, char** argv) { return pbrx::bench::Run(argc, argv); }
