// Load on a farm's daemons: N concurrent clients for a while against the
// real pbrx-cache and pbrx-coordinator on loopback, each looping over a
// mix of FindMissingBlobs, BatchUpdateBlobs, ByteStream writes and reads,
// BatchReadBlobs, GetActionResult and Execute of no-op actions (run by
// fake executors over the Worker API). Then checks the promises: no error
// but RESOURCE_EXHAUSTED, every acknowledged write readable (or, when the
// cache evicted to stay within --max-size, gone as NOT_FOUND: never
// different bytes), the stored bytes within --max-size, and reports
// calls/s, latency, peak threads and RSS of both daemons.
//   bazel run -c opt //tools/bench:farm_load_bench -- [--clients=256]
//       [--seconds=60] [--work-dir=DIR]
// Exit 0 when every promise held, 1 otherwise (tests:farm_load_test runs
// it with fewer clients for a shorter time).
#include <curl/curl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "common/digest.h"
#include "common/flag_parser.h"
#include "google/bytestream/bytestream.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "proto/farm.grpc.pb.h"
#include "tests/subprocess.h"
#include "tools/bench/open_loop.h"

namespace pbrx::bench {
namespace {

namespace re = build::bazel::remote::execution::v2;
namespace bs = google::bytestream;
namespace fv = pbrx::farm::v1;
namespace lr = google::longrunning;
using common::Digest;

void Die(const std::string& why) {
  std::fprintf(stderr, "farm_load_bench: %s\n", why.c_str());
  std::exit(1);
}

// "Threads:" and "VmHWM:" (KiB) of a process.
std::pair<int64_t, int64_t> ThreadsAndPeakKiB(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  int64_t threads = 0, hwm = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Threads:", 0) == 0)
      absl::SimpleAtoi(line.substr(8), &threads);
    if (line.rfind("VmHWM:", 0) == 0) {
      std::string v = line.substr(6);
      v = v.substr(0, v.find("kB"));
      absl::SimpleAtoi(v, &hwm);
    }
  }
  return {threads, hwm};
}

size_t CurlAppend(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

// The value of an unlabelled metric on http://ADDRESS/metrics (-1: none).
double Metric(const std::string& address, const std::string& name) {
  std::string body;
  CURL* curl = curl_easy_init();
  const std::string url = "http://" + address + "/metrics";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CurlAppend);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    if (absl::StartsWith(line, name + " ")) {
      double v = -1;
      if (absl::SimpleAtod(line.substr(name.size() + 1), &v)) return v;
    }
  }
  return -1;
}

// The address after "metrics on http://" in a daemon's log.
std::string MetricsAddress(const std::string& log) {
  for (int i = 0; i < 300; ++i) {
    std::ifstream f(log);
    std::string text((std::istreambuf_iterator<char>(f)), {});
    size_t at = text.find("metrics on http://");
    size_t end = at == std::string::npos ? at : text.find('/', at + 18);
    if (end != std::string::npos) return text.substr(at + 18, end - at - 18);
    absl::SleepFor(absl::Milliseconds(100));
  }
  Die("no metrics address in " + log);
  return "";
}

std::string StartDaemon(testing_util::Subprocess& proc,
                        const std::vector<std::string>& argv,
                        const std::string& log = "") {
  if (!proc.Start(argv, log).ok()) Die("cannot start " + argv[0]);
  absl::StatusOr<std::string> line = proc.ReadLine(absl::Seconds(30));
  if (!line.ok()) Die("no address from " + argv[0]);
  return *line;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address, int i) {
  grpc::ChannelArguments args;
  args.SetInt("pbrx.bench.client", i);  // a connection of its own
  args.SetMaxReceiveMessageSize(16 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

// Fake executors: every leased action "runs" at once with exit code 0 and
// no outputs; heartbeats name nothing (nothing is held long).
class FakeExecutors {
 public:
  FakeExecutors(const std::string& coordinator, int count) {
    for (int e = 0; e < count; ++e) {
      contexts_.push_back(std::make_unique<grpc::ClientContext>());
      threads_.emplace_back([this, coordinator, e] {
        auto stub = fv::Worker::NewStub(Channel(coordinator, 10000 + e));
        auto stream = stub->Work(contexts_[e].get());
        fv::WorkerMessage reg;
        reg.mutable_register_()->set_name(absl::StrCat("fake-", e));
        reg.mutable_register_()->set_slots(8);
        stream->Write(reg);
        fv::CoordinatorMessage m;
        while (stream->Read(&m)) {
          if (!m.has_lease()) continue;
          fv::WorkerMessage done;
          done.mutable_completion()->set_lease_id(m.lease().lease_id());
          done.mutable_completion()->mutable_result()->set_exit_code(0);
          if (!stream->Write(done)) break;
        }
      });
    }
  }
  ~FakeExecutors() {
    for (auto& c : contexts_) c->TryCancel();
    for (auto& t : threads_) t.join();
  }

 private:
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts_;
  std::vector<std::thread> threads_;
};

struct Tally {
  absl::Mutex mu;
  std::map<std::string, int64_t> calls;               // by operation
  std::map<std::string, int64_t> errors;              // "op CODE: message"
  std::vector<std::pair<Digest, std::string>> acked;  // writes to check
  std::vector<double> latencies_us;
};

int Main(int argc, char** argv) {
  std::string work_dir = "/tmp/pbrx-load-bench";
  int64_t clients = 256;
  int64_t executors = 4;
  int64_t max_size = int64_t{1} << 30;
  absl::Duration duration = absl::Seconds(60);
  std::string cache_bin = "cache/pbrx-cache";
  std::string coord_bin = "coordinator/pbrx-coordinator";
  common::FlagParser flags("farm_load_bench");
  flags.AddString("work-dir", &work_dir, "scratch directory");
  flags.AddInt("clients", &clients, "concurrent clients");
  flags.AddInt("executors", &executors, "fake executors (8 slots each)");
  flags.AddByteSize("max-size", &max_size, "the cache's --max-size");
  flags.AddDuration("seconds", &duration, "how long the load lasts");
  flags.AddString("cache-bin", &cache_bin, "path of pbrx-cache");
  flags.AddString("coordinator-bin", &coord_bin, "path of pbrx-coordinator");
  bool help = false;
  absl::Status parsed = flags.Parse(argc, argv, &help);
  if (help) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.ok() || clients < 1 || executors < 1) {
    std::fprintf(stderr, "farm_load_bench: %s (see --help)\n",
                 parsed.ok() ? "--clients and --executors must be positive"
                             : std::string(parsed.message()).c_str());
    return 2;
  }
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);
  std::filesystem::create_directories(work_dir, ec);

  testing_util::Subprocess cache_proc, coord_proc;
  const std::string cache_log = work_dir + "/cache.log";
  const std::string cache = StartDaemon(
      cache_proc,
      {cache_bin, "--listen=127.0.0.1:0", "--data-dir=" + work_dir + "/cache",
       absl::StrCat("--max-size=", max_size), "--min-age=0s",
       "--metrics-listen=127.0.0.1:0"},
      cache_log);
  const std::string cache_metrics = MetricsAddress(cache_log);
  const std::string coord = StartDaemon(
      coord_proc, {coord_bin, "--listen=127.0.0.1:0", "--quiet",
                   "--cache=grpc://" + cache, "--unmatched-timeout=60s"});
  FakeExecutors fakes(coord, static_cast<int>(executors));

  // Shared fixtures: 20 blobs and 20 Action Cache entries every client
  // reads, and 20 no-op actions (Action, Command, empty input root).
  auto setup_cas = re::ContentAddressableStorage::NewStub(Channel(cache, -1));
  auto setup_ac = re::ActionCache::NewStub(Channel(cache, -1));
  std::vector<Digest> shared_blobs, cached_actions, noop_actions;
  // Everything set up here, kept to upload again: a client whose Execute
  // is refused for a blob the cache evicted uploads it again (REAPI's
  // FAILED_PRECONDITION with missing blobs, as Bazel does).
  re::BatchUpdateBlobsRequest setup_blobs;
  {
    grpc::ClientContext ctx;
    re::BatchUpdateBlobsRequest up;
    auto add = [&](const std::string& bytes) {
      auto* r = up.add_requests();
      *r->mutable_digest() = Digest::Of(bytes).ToProto();
      r->set_data(bytes);
      return Digest::Of(bytes);
    };
    const Digest empty_dir = add(re::Directory().SerializeAsString());
    for (int i = 0; i < 20; ++i) {
      shared_blobs.push_back(add(absl::StrCat("shared blob ", i)));
      re::Command cmd;
      cmd.add_arguments("true");
      cmd.add_arguments(absl::StrCat(i));
      re::Action a;
      *a.mutable_command_digest() = add(cmd.SerializeAsString()).ToProto();
      *a.mutable_input_root_digest() = empty_dir.ToProto();
      noop_actions.push_back(add(a.SerializeAsString()));
    }
    re::BatchUpdateBlobsResponse res;
    if (!setup_cas->BatchUpdateBlobs(&ctx, up, &res).ok())
      Die("cannot set up the CAS");
    setup_blobs = up;
    for (int i = 0; i < 20; ++i) {
      grpc::ClientContext c;
      re::UpdateActionResultRequest req;
      Digest action = Digest::Of(absl::StrCat("cached action ", i));
      *req.mutable_action_digest() = action.ToProto();
      auto* f = req.mutable_action_result()->add_output_files();
      f->set_path("out");
      *f->mutable_digest() = shared_blobs[i].ToProto();
      re::ActionResult r;
      if (!setup_ac->UpdateActionResult(&c, req, &r).ok())
        Die("cannot set up the Action Cache");
      cached_actions.push_back(action);
    }
  }

  Tally tally;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> peak_cache_threads{0}, peak_coord_threads{0};
  std::thread sampler([&] {
    while (!stop) {
      int64_t c = ThreadsAndPeakKiB(cache_proc.pid()).first;
      int64_t o = ThreadsAndPeakKiB(coord_proc.pid()).first;
      if (c > peak_cache_threads) peak_cache_threads = c;
      if (o > peak_coord_threads) peak_coord_threads = o;
      absl::SleepFor(absl::Milliseconds(200));
    }
  });
  const absl::Time end = absl::Now() + duration;
  std::vector<std::thread> threads;
  for (int64_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto cache_channel = Channel(cache, static_cast<int>(c));
      auto coord_channel = Channel(coord, static_cast<int>(c));
      auto cas = re::ContentAddressableStorage::NewStub(cache_channel);
      auto ac = re::ActionCache::NewStub(cache_channel);
      auto bytestream = bs::ByteStream::NewStub(cache_channel);
      auto exec = re::Execution::NewStub(coord_channel);
      std::mt19937_64 rng(static_cast<uint64_t>(c) * 7919 + 1);
      std::map<std::string, int64_t> calls, errors;
      std::vector<std::pair<Digest, std::string>> acked;
      std::vector<double> latencies;
      int64_t n = 0;
      auto record = [&](const std::string& op, const grpc::Status& st) {
        ++calls[op];
        if (!st.ok()) {
          ++errors[absl::StrCat(op, " ", st.error_code(), ": ",
                                st.error_message().substr(0, 120))];
        }
        return st.ok();
      };
      while (absl::Now() < end) {
        const int op = static_cast<int>(rng() % 7);
        const absl::Time t = absl::Now();
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
        ++n;
        if (op == 0) {  // FindMissingBlobs: 10 present, 10 absent
          re::FindMissingBlobsRequest req;
          for (int i = 0; i < 10; ++i) {
            *req.add_blob_digests() = shared_blobs[(n + i) % 20].ToProto();
            *req.add_blob_digests() =
                Digest::Of(absl::StrCat("absent ", c, " ", n, " ", i))
                    .ToProto();
          }
          re::FindMissingBlobsResponse res;
          record("FindMissingBlobs", cas->FindMissingBlobs(&ctx, req, &res));
        } else if (op == 1) {  // BatchUpdateBlobs: 1-8 KiB
          std::string data(1024 * (1 + rng() % 8), 'b');
          absl::StrAppend(&data, c, ":", n);
          re::BatchUpdateBlobsRequest req;
          auto* r = req.add_requests();
          *r->mutable_digest() = Digest::Of(data).ToProto();
          r->set_data(data);
          re::BatchUpdateBlobsResponse res;
          grpc::Status st = cas->BatchUpdateBlobs(&ctx, req, &res);
          if (st.ok() && res.responses(0).status().code() != 0) {
            st = grpc::Status(
                static_cast<grpc::StatusCode>(res.responses(0).status().code()),
                res.responses(0).status().message());
          }
          if (record("BatchUpdateBlobs", st))
            acked.emplace_back(Digest::Of(data), data);
        } else if (op == 2) {  // ByteStream write of 64 KiB
          std::string data(64 << 10, 'w');
          absl::StrAppend(&data, c, ":", n);
          const Digest d = Digest::Of(data);
          bs::WriteResponse res;
          auto writer = bytestream->Write(&ctx, &res);
          bs::WriteRequest req;
          req.set_resource_name(absl::StrCat("load/uploads/u-", c, "-", n,
                                             "/blobs/", d.hash(), "/",
                                             d.size()));
          req.set_data(data);
          req.set_finish_write(true);
          writer->Write(req);
          writer->WritesDone();
          if (record("ByteStream.Write", writer->Finish()))
            acked.emplace_back(d, data);
        } else if (op == 3) {  // ByteStream read of a shared blob
          const Digest& d = shared_blobs[n % 20];
          bs::ReadRequest req;
          req.set_resource_name(
              absl::StrCat("load/blobs/", d.hash(), "/", d.size()));
          auto reader = bytestream->Read(&ctx, req);
          bs::ReadResponse res;
          while (reader->Read(&res)) {
          }
          record("ByteStream.Read", reader->Finish());
        } else if (op == 4) {  // BatchReadBlobs of 5 shared blobs
          re::BatchReadBlobsRequest req;
          for (int i = 0; i < 5; ++i)
            *req.add_digests() = shared_blobs[(n + i) % 20].ToProto();
          re::BatchReadBlobsResponse res;
          record("BatchReadBlobs", cas->BatchReadBlobs(&ctx, req, &res));
        } else if (op == 5) {  // GetActionResult (hits)
          re::GetActionResultRequest req;
          *req.mutable_action_digest() = cached_actions[n % 20].ToProto();
          re::ActionResult res;
          record("GetActionResult", ac->GetActionResult(&ctx, req, &res));
        } else {  // Execute a no-op action through the coordinator
          re::ExecuteRequest req;
          *req.mutable_action_digest() = noop_actions[n % 20].ToProto();
          req.set_skip_cache_lookup(rng() % 4 == 0);
          auto execute = [&]() {
            grpc::ClientContext ectx;
            ectx.set_deadline(std::chrono::system_clock::now() +
                              std::chrono::seconds(30));
            auto reader = exec->Execute(&ectx, req);
            lr::Operation op_msg;
            bool done = false;
            while (reader->Read(&op_msg)) done = done || op_msg.done();
            grpc::Status st = reader->Finish();
            if (st.ok() && !done) {
              st = grpc::Status(grpc::StatusCode::INTERNAL,
                                "no final operation");
            }
            return st;
          };
          grpc::Status st = execute();
          if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
            // Evicted meanwhile: upload again and retry once.
            ++calls["Execute re-uploads (FAILED_PRECONDITION)"];
            grpc::ClientContext uctx;
            re::BatchUpdateBlobsResponse ures;
            record("BatchUpdateBlobs",
                   cas->BatchUpdateBlobs(&uctx, setup_blobs, &ures));
            st = execute();
          }
          record("Execute", st);
        }
        latencies.push_back(absl::ToDoubleMicroseconds(absl::Now() - t));
      }
      absl::MutexLock lock(&tally.mu);
      for (auto& [k, v] : calls) tally.calls[k] += v;
      for (auto& [k, v] : errors) tally.errors[k] += v;
      tally.acked.insert(tally.acked.end(), acked.begin(), acked.end());
      tally.latencies_us.insert(tally.latencies_us.end(), latencies.begin(),
                                latencies.end());
    });
  }
  for (auto& t : threads) t.join();
  stop = true;
  sampler.join();

  // Every acknowledged write reads back, byte for byte, unless the cache
  // evicted it to stay within --max-size (NOT_FOUND, and only when it
  // reports evictions).
  const double evictions = Metric(cache_metrics, "pbrx_cache_evictions_total");
  int64_t unreadable = 0, evicted = 0;
  auto bytestream = bs::ByteStream::NewStub(Channel(cache, -2));
  for (const auto& [d, data] : tally.acked) {
    grpc::ClientContext ctx;
    bs::ReadRequest req;
    req.set_resource_name(absl::StrCat("load/blobs/", d.hash(), "/", d.size()));
    auto reader = bytestream->Read(&ctx, req);
    std::string back;
    bs::ReadResponse res;
    while (reader->Read(&res)) back += res.data();
    grpc::Status st = reader->Finish();
    if (st.error_code() == grpc::StatusCode::NOT_FOUND && evictions > 0) {
      ++evicted;
    } else if (!st.ok() || back != data) {
      ++unreadable;
    }
  }
  int64_t total = 0, other_errors = 0, exhausted = 0;
  for (const auto& [k, v] : tally.calls) total += v;
  for (const auto& [k, v] : tally.errors) {
    if (k.find(" 8: ") != std::string::npos) {  // RESOURCE_EXHAUSTED
      exhausted += v;
    } else {
      other_errors += v;
    }
  }
  const auto [cache_threads, cache_kib] = ThreadsAndPeakKiB(cache_proc.pid());
  const auto [coord_threads, coord_kib] = ThreadsAndPeakKiB(coord_proc.pid());
  (void)cache_threads;
  (void)coord_threads;
  const double stored = Metric(cache_metrics, "pbrx_cache_stored_bytes");
  cache_proc.Stop(SIGTERM, absl::Seconds(30)).IgnoreError();
  coord_proc.Stop(SIGTERM, absl::Seconds(30)).IgnoreError();

  const double secs = absl::ToDoubleSeconds(duration);
  std::printf("farm load: %lld clients, %lld fake executors, %s (%s)\n\n",
              static_cast<long long>(clients),
              static_cast<long long>(executors),
              absl::FormatDuration(duration).c_str(),
              absl::FormatTime(absl::Now()).c_str());
  std::printf("| %-40s | %14s |\n| --- | --- |\n", "measure", "value");
  for (const auto& [k, v] : tally.calls) {
    std::printf("| %-40s | %14.0f |\n", absl::StrCat(k, " calls/s").c_str(),
                static_cast<double>(v) / secs);
  }
  std::printf("| %-40s | %14.0f |\n", "all calls/s",
              static_cast<double>(total) / secs);
  std::printf("| %-40s | %11.1f ms |\n", "latency p50",
              Percentile(tally.latencies_us, 0.5) / 1000);
  std::printf("| %-40s | %11.1f ms |\n", "latency p99",
              Percentile(tally.latencies_us, 0.99) / 1000);
  std::printf("| %-40s | %14lld |\n", "RESOURCE_EXHAUSTED (documented)",
              static_cast<long long>(exhausted));
  std::printf("| %-40s | %14lld |\n", "other errors",
              static_cast<long long>(other_errors));
  std::printf("| %-40s | %14lld |\n", "acknowledged writes",
              static_cast<long long>(tally.acked.size()));
  std::printf("| %-40s | %14lld |\n", "acknowledged writes unreadable",
              static_cast<long long>(unreadable));
  std::printf("| %-40s | %14lld |\n", "acknowledged writes evicted since",
              static_cast<long long>(evicted));
  std::printf("| %-40s | %14.0f |\n", "cache evictions", evictions);
  std::printf("| %-40s | %14lld |\n", "pbrx-cache peak threads",
              static_cast<long long>(peak_cache_threads.load()));
  std::printf("| %-40s | %11.0f MB |\n", "pbrx-cache peak RSS",
              cache_kib / 1024.0);
  std::printf("| %-40s | %14lld |\n", "pbrx-coordinator peak threads",
              static_cast<long long>(peak_coord_threads.load()));
  std::printf("| %-40s | %11.0f MB |\n", "pbrx-coordinator peak RSS",
              coord_kib / 1024.0);
  std::printf("| %-40s | %11.0f MB |\n", "cache stored bytes",
              stored / 1048576.0);
  std::printf("| %-40s | %11.0f MB |\n", "cache --max-size",
              static_cast<double>(max_size) / 1048576.0);
  for (const auto& [k, v] : tally.errors)
    std::fprintf(stderr, "error x%lld: %s\n", static_cast<long long>(v),
                 k.c_str());
  const bool ok = other_errors == 0 && unreadable == 0 && total > 0 &&
                  stored >= 0 && stored <= static_cast<double>(max_size);
  if (!ok) std::fprintf(stderr, "farm_load_bench: a promise was broken\n");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace pbrx::bench

int main(int argc, char** argv) { return pbrx::bench::Main(argc, argv); }
