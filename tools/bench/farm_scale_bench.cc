// Coordinator scale: N projects (default 100 and 1,000) built through a real
// pbrx-coordinator process (and pbrx-cache, RocksDB on disk) whose
// executors are fast fakes: in-process Worker API clients that answer each
// lease at once with FakeSteps outputs (coordinator/pipeline/fake_steps.h),
// read and written through the cache over gRPC like a real executor's.
// Projects share dependencies as fleets do: each needs a few of a pool of
// libraries (a quarter of them sdists, built once per farm), one of ten
// bindep sets, and has several console scripts, each with an extra.
// Measured per size: steps (executed and cached), steps/s, the
// coordinator's CPU seconds per 1,000 steps and its peak RSS, so growth
// from 100 to 1,000 projects shows. Baseline in the same run: unary
// FarmStatus.GetStatus round trips to the same coordinator.
//
//   bazel run -c opt //tools/bench:farm_scale_bench -- [--sizes=100,1000]
//       [--executors=16] [--scripts=10] [--libs=200] [--clients=8]
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/directory_tree.h"
#include "cache/grpc_cache_client.h"
#include "common/flag_parser.h"
#include "common/grpc_channel.h"
#include "common/step_tool.h"
#include "coordinator/pipeline/fake_steps.h"
#include "grpcpp/grpcpp.h"
#include "proto/farm.grpc.pb.h"
#include "tests/subprocess.h"

namespace pbrx::bench {
namespace {

namespace fv = pbrx::farm::v1;
using common::Digest;

struct Flags {
  std::vector<int64_t> sizes = {100, 1000};
  int64_t executors = 16, slots = 4, scripts = 10, libs = 200, clients = 8,
          deps = 5, parallel_projects = 32;
};

// The coordinator's peak RSS (bytes) and CPU seconds so far.
std::pair<int64_t, double> Usage(pid_t pid) {
  int64_t hwm = 0;
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) {
      absl::SimpleAtoi(
          absl::StripAsciiWhitespace(line.substr(6, line.size() - 9)), &hwm);
      hwm *= 1024;
    }
  }
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  std::vector<std::string> f =
      absl::StrSplit(text.substr(text.rfind(')') + 2), ' ');
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  int64_t ut = 0, st = 0;
  if (f.size() > 12) {
    absl::SimpleAtoi(f[11], &ut);
    absl::SimpleAtoi(f[12], &st);
  }
  return {hwm, (ut + st) / ticks};
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string Lib(int64_t j) { return absl::StrCat("lib", j); }

// The projects and the find-links pool under `dir`.
void MakeProjects(const std::string& dir, int64_t n, const Flags& f) {
  mkdir((dir + "/links").c_str(), 0755);
  for (int64_t j = 0; j < f.libs; ++j) {
    std::string file =
        j % 4 == 0 ? Lib(j) + "-1.0.tar.gz" : Lib(j) + "-1.0-py3-none-any.whl";
    Write(dir + "/links/" + file, "bytes of " + file);
  }
  for (int64_t i = 0; i < n; ++i) {
    std::string name = absl::StrCat("proj", i);
    std::string p = dir + "/" + name;
    mkdir(p.c_str(), 0755);
    std::string deps;
    for (int64_t k = 0; k < f.deps; ++k)
      absl::StrAppend(&deps, k ? ", " : "", "\"",
                      Lib((i * 7 + k * 13) % f.libs), "\"");
    std::string py = absl::StrCat(
        "[project]\nname = \"", name, "\"\nversion = \"1.0\"\ndependencies = [",
        deps, "]\n\n[project.optional-dependencies]\n", name, "_base = [\"",
        Lib((i * 3 + 1) % f.libs), "\"]\n");
    std::string scripts = "\n[project.scripts]\n";
    for (int64_t s = 0; s < f.scripts; ++s) {
      std::string script = absl::StrCat(name, "-s", s);
      // Each script's own extra is named after it ({script} extras).
      absl::StrAppend(&py, script, " = [\"", Lib((i * 5 + s * 11 + 2) % f.libs),
                      "\"]\n");
      absl::StrAppend(&scripts, script, " = \"", name, ".cli:main", s, "\"\n");
    }
    Write(p + "/pyproject.toml", py + scripts);
    int64_t v = i % 10;
    Write(p + "/bindep.txt",
          absl::StrCat("libx", v, "-dev [compile]\nlibx", v, "\n"));
  }
}

struct Result {
  int64_t projects = 0, failed = 0, steps = 0, cached = 0, executed = 0;
  double seconds = 0, cpu = 0, cache_cpu = 0, idle_cpu = 0, baseline_rate = 0;
  int64_t rss = 0;
  std::string first_error;
};

Result RunOne(int64_t n, const Flags& f) {
  Result r;
  r.projects = n;
  char tmpl[] = "/tmp/pbrx-scale-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  testing_util::Subprocess cache_proc, coord_proc;
  if (!cache_proc
           .Start({"cache/pbrx-cache", "--listen=127.0.0.1:0",
                   "--data-dir=" + dir + "/cache", "--quiet"},
                  dir + "/cache.log")
           .ok()) {
    r.first_error = "cannot start pbrx-cache";
    return r;
  }
  std::string cache_addr = cache_proc.ReadLine(absl::Seconds(30)).value_or("");
  if (!coord_proc
           .Start(
               {"coordinator/pbrx-coordinator", "--listen=127.0.0.1:0",
                "--cache=grpc://" + cache_addr,
                absl::StrCat("--max-parallel-projects=", f.parallel_projects),
                "--quiet"},
               dir + "/coord.log")
           .ok()) {
    r.first_error = "cannot start pbrx-coordinator";
    return r;
  }
  std::string coord_addr = coord_proc.ReadLine(absl::Seconds(30)).value_or("");

  // Inputs, uploaded as a client does.
  MakeProjects(dir, n, f);
  auto cache_channel = common::MakeChannel(cache_addr).value();
  cache::GrpcBlobStore cas(cache_channel, {});
  std::vector<Digest> roots;
  for (int64_t i = 0; i < n; ++i)
    roots.push_back(cache::UploadDirectory(absl::StrCat(dir, "/proj", i), cas)
                        .value()
                        .root);
  Digest links = cache::UploadDirectory(dir + "/links", cas).value().root;

  // The fake executors.
  std::vector<std::thread> workers;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::atomic<int64_t> executed{0};
  for (int64_t e = 0; e < f.executors; ++e)
    contexts.push_back(std::make_unique<grpc::ClientContext>());
  for (int64_t e = 0; e < f.executors; ++e) {
    workers.emplace_back([&, e] {
      auto channel = common::MakeChannel(coord_addr).value();
      cache::GrpcBlobStore store(cache_channel, {});
      coordinator::FakeSteps fake(&store);
      auto stub = fv::Worker::NewStub(channel);
      auto stream = stub->Work(contexts[e].get());
      fv::WorkerMessage reg;
      reg.mutable_register_()->set_name(absl::StrCat("fake-", e));
      reg.mutable_register_()->set_slots(static_cast<int>(f.slots));
      for (const auto& [k, v] :
           std::vector<std::pair<std::string, std::string>>{
               {"rootfs", "*"},
               {"capture", "*"},
               {"network", "*"},
               {common::kStepToolsProperty, common::kStepToolsVersion},
               {common::kDebianBaseProperty, common::kDebianBaseBuilder}}) {
        auto* p = reg.mutable_register_()->add_properties();
        p->set_name(k);
        p->set_value(v);
      }
      stream->Write(reg);
      fv::CoordinatorMessage m;
      while (stream->Read(&m)) {
        if (!m.has_lease()) continue;
        fv::WorkerMessage done;
        done.mutable_completion()->set_lease_id(m.lease().lease_id());
        common::ExecuteOptions eo;
        if (m.lease().has_action()) eo.action = &m.lease().action();
        if (m.lease().has_command()) eo.command = &m.lease().command();
        absl::StatusOr<common::ActionOutcome> out =
            fake.Run(Digest::FromProto(m.lease().action_digest()).value(), eo);
        if (out.ok()) {
          *done.mutable_completion()->mutable_result() = out->result;
        } else {
          done.mutable_completion()->mutable_status()->set_code(
              static_cast<int>(out.status().code()));
          done.mutable_completion()->mutable_status()->set_message(
              std::string(out.status().message()));
        }
        ++executed;
        if (!stream->Write(done)) break;
      }
    });
  }
  common::ChannelOptions co;
  co.max_receive_bytes = common::kMaxBuildEventBytes;
  auto channel = common::MakeChannel(coord_addr, co).value();
  auto status = fv::FarmStatus::NewStub(channel);
  for (int i = 0; i < 300; ++i) {
    grpc::ClientContext ctx;
    fv::GetStatusResponse s;
    if (status->GetStatus(&ctx, {}, &s).ok() &&
        s.executors_size() == f.executors)
      break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  // Baseline: unary round trips to the same server.
  {
    const int64_t calls = 2000;
    absl::Time start = absl::Now();
    std::vector<std::thread> ts;
    for (int64_t c = 0; c < f.clients; ++c) {
      ts.emplace_back([&] {
        for (int64_t i = 0; i < calls / f.clients; ++i) {
          grpc::ClientContext ctx;
          fv::GetStatusResponse s;
          status->GetStatus(&ctx, {}, &s);
        }
      });
    }
    for (auto& t : ts) t.join();
    r.baseline_rate = calls / absl::ToDoubleSeconds(absl::Now() - start);
  }

  // What the coordinator burns idle (executors connected, nothing queued).
  {
    double before = Usage(coord_proc.pid()).second;
    absl::SleepFor(absl::Seconds(5));
    r.idle_cpu = (Usage(coord_proc.pid()).second - before) / 5;
  }
  // The fan-out: each client one BuildImages request over its share.
  double cpu_before = Usage(coord_proc.pid()).second;
  double cache_cpu_before = Usage(cache_proc.pid()).second;
  absl::Mutex mu;
  auto build = fv::Build::NewStub(channel);
  absl::Time start = absl::Now();
  std::vector<std::thread> clients;
  for (int64_t c = 0; c < f.clients; ++c) {
    clients.emplace_back([&, c] {
      fv::BuildRequest req;
      for (int64_t i = c; i < n; i += f.clients) {
        auto* p = req.add_projects();
        p->set_dir(absl::StrCat("proj", i));
        *p->mutable_root() = roots[i].ToProto();
      }
      *req.mutable_find_links() = links.ToProto();
      req.set_base("debian:bookworm");
      req.set_source_date_epoch(1700000000);
      grpc::ClientContext ctx;
      auto reader = build->BuildImages(&ctx, req);
      fv::BuildEvent ev;
      int64_t steps = 0, cached = 0, failed = 0;
      std::string error;
      while (reader->Read(&ev)) {
        if (ev.has_step()) {
          ++steps;
          if (ev.step().cached()) ++cached;
        } else if (ev.has_project() && !ev.project().error().empty()) {
          ++failed;
          if (error.empty()) error = ev.project().error();
        }
      }
      grpc::Status s = reader->Finish();
      absl::MutexLock lock(&mu);
      r.steps += steps;
      r.cached += cached;
      r.failed += failed;
      if (!s.ok() && r.first_error.empty()) r.first_error = s.error_message();
      if (!error.empty() && r.first_error.empty()) r.first_error = error;
    });
  }
  for (auto& t : clients) t.join();
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  auto [rss, cpu_after] = Usage(coord_proc.pid());
  r.rss = rss;
  r.cpu = cpu_after - cpu_before;
  r.cache_cpu = Usage(cache_proc.pid()).second - cache_cpu_before;
  r.executed = executed.load();
  for (auto& ctx : contexts) ctx->TryCancel();
  for (auto& t : workers) t.join();
  coord_proc.Stop(SIGTERM, absl::Seconds(10)).IgnoreError();
  cache_proc.Stop(SIGTERM, absl::Seconds(10)).IgnoreError();
  std::filesystem::remove_all(dir);
  return r;
}

int Run(int argc, char** argv) {
  Flags f;
  std::string sizes = "100,1000";
  common::FlagParser flags("farm_scale_bench");
  flags.AddString("sizes", &sizes, "project counts, one fresh farm each");
  flags.AddInt("executors", &f.executors, "fake executors");
  flags.AddInt("slots", &f.slots, "slots each fake executor offers");
  flags.AddInt("scripts", &f.scripts, "console scripts per project");
  flags.AddInt("libs", &f.libs, "libraries in the shared find-links pool");
  flags.AddInt("deps", &f.deps, "dependencies per project");
  flags.AddInt("clients", &f.clients, "concurrent BuildImages requests");
  flags.AddInt("max-parallel-projects", &f.parallel_projects,
               "the coordinator's flag");
  bool help = false;
  if (absl::Status s = flags.Parse(argc, argv, &help); !s.ok() || help) {
    std::fprintf(stderr, "%s\n%s", std::string(s.message()).c_str(),
                 flags.Usage().c_str());
    return help ? 0 : 2;
  }
  f.sizes.clear();
  for (absl::string_view s : absl::StrSplit(sizes, ',')) {
    int64_t v;
    if (!absl::SimpleAtoi(s, &v) || v < 1) {
      std::fprintf(stderr, "--sizes: '%s' is not a count\n",
                   std::string(s).c_str());
      return 2;
    }
    f.sizes.push_back(v);
  }
  std::printf(
      "farm_scale_bench: %lld fake executors x %lld slots, %lld scripts per "
      "project, %lld deps of a pool of %lld, %lld clients, "
      "--max-parallel-projects=%lld\n\n",
      (long long)f.executors, (long long)f.slots, (long long)f.scripts,
      (long long)f.deps, (long long)f.libs, (long long)f.clients,
      (long long)f.parallel_projects);
  std::printf(
      "| projects | steps | executed | cached | failed projects | seconds | "
      "steps/s | coordinator CPU s / 1000 steps | its idle CPU s/s | "
      "coordinator peak RSS MiB | cache CPU s / 1000 steps | "
      "baseline GetStatus/s |\n| --- | --- | --- | --- | --- | --- | --- | "
      "--- | --- | --- | --- | --- |\n");
  int rc = 0;
  for (int64_t n : f.sizes) {
    Result r = RunOne(n, f);
    std::printf(
        "| %lld | %lld | %lld | %lld | %lld | %.1f | %.0f | %.2f | "
        "%.3f | %.0f | %.2f | %.0f |\n",
        (long long)r.projects, (long long)r.steps, (long long)r.executed,
        (long long)r.cached, (long long)r.failed, r.seconds,
        r.steps / r.seconds, r.steps ? r.cpu * 1000 / r.steps : 0, r.idle_cpu,
        r.rss / 1048576.0, r.steps ? r.cache_cpu * 1000 / r.steps : 0,
        r.baseline_rate);
    std::fflush(stdout);
    if (!r.first_error.empty()) {
      std::fprintf(stderr, "first error: %s\n", r.first_error.c_str());
      rc = 1;
    }
  }
  return rc;
}

}  // namespace
}  // namespace pbrx::bench

int main(int argc, char** argv) { return pbrx::bench::Run(argc, argv); }
