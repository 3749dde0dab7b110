// Benchmarks of pbrx-cache, run against the real binary over loopback:
//   1. ByteStream write and read of a large blob vs a plain file copy of the
//      same bytes on the same disk (ratio);
//   2. GetActionResult latency (p50/p99) at a steady request rate from
//      concurrent clients (open loop: requests are sent on schedule);
//   3. FindMissingBlobs with 10,000 digests, half present; a tree of 2,000
//      small files uploaded as pbrx does (batched) vs a write call per blob;
//   4. peak RSS (VmHWM) of pbrx-cache after streaming a very large blob in
//      and out.
// Usage: bazel run -c opt //tools/bench:cache_bench -- [--work-dir=DIR]
//        [--blob-size=1G] [--rss-blob-size=4G] [--rate=1000] [--seconds=10]
// Prints a table; numbers are for the machine it runs on.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cache/directory_tree.h"
#include "cache/grpc_cache_client.h"
#include "common/digest.h"
#include "common/flag_parser.h"
#include "common/sha256.h"
#include "google/bytestream/bytestream.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tests/subprocess.h"
#include "tools/bench/open_loop.h"

namespace pbrx::bench {
namespace {

namespace re = build::bazel::remote::execution::v2;
namespace bs = google::bytestream;
using common::Digest;

constexpr size_t kPiece = 1 << 20;

// Deterministic, incompressible-looking content, generated piece by piece.
void FillPiece(uint64_t piece_index, std::string* out) {
  out->resize(kPiece);
  uint64_t x = 0x9e3779b97f4a7c15ull * (piece_index + 1);
  for (size_t i = 0; i < kPiece; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(&(*out)[i], &x, 8);
  }
}

Digest DigestOfGenerated(int64_t size) {
  common::Sha256 sha;
  std::string piece;
  for (int64_t off = 0, i = 0; off < size; off += kPiece, ++i) {
    FillPiece(static_cast<uint64_t>(i), &piece);
    sha.Update(absl::string_view(piece).substr(
        0, std::min<int64_t>(kPiece, size - off)));
  }
  return *Digest::Create(sha.FinishHex(), size);
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

struct Bench {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<bs::ByteStream::Stub> bytestream;
  std::unique_ptr<re::ContentAddressableStorage::Stub> cas;
  std::unique_ptr<re::ActionCache::Stub> ac;

  void Connect(const std::string& addr) {
    address = addr;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    channel = grpc::CreateCustomChannel(
        addr, grpc::InsecureChannelCredentials(), args);
    bytestream = bs::ByteStream::NewStub(channel);
    cas = re::ContentAddressableStorage::NewStub(channel);
    ac = re::ActionCache::NewStub(channel);
  }

  // Streams the generated blob; returns wall time.
  absl::Duration Upload(const Digest& d) {
    grpc::ClientContext ctx;
    bs::WriteResponse resp;
    auto writer = bytestream->Write(&ctx, &resp);
    std::string name =
        absl::StrCat("uploads/bench/blobs/", d.hash(), "/", d.size());
    std::string piece;
    absl::Time start = absl::Now();
    for (int64_t off = 0, i = 0; off < d.size(); off += kPiece, ++i) {
      FillPiece(static_cast<uint64_t>(i), &piece);
      bs::WriteRequest req;
      if (i == 0) req.set_resource_name(name);
      req.set_write_offset(off);
      req.set_data(piece.substr(
          0, static_cast<size_t>(std::min<int64_t>(kPiece, d.size() - off))));
      req.set_finish_write(off + static_cast<int64_t>(kPiece) >= d.size());
      if (!writer->Write(req)) break;
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    absl::Duration took = absl::Now() - start;
    if (!s.ok() || resp.committed_size() != d.size()) {
      std::fprintf(stderr, "upload failed: %s\n", s.error_message().c_str());
      std::exit(1);
    }
    return took;
  }

  absl::Duration Download(const Digest& d) {
    grpc::ClientContext ctx;
    bs::ReadRequest req;
    req.set_resource_name(absl::StrCat("blobs/", d.hash(), "/", d.size()));
    absl::Time start = absl::Now();
    auto reader = bytestream->Read(&ctx, req);
    bs::ReadResponse resp;
    int64_t got = 0;
    while (reader->Read(&resp)) got += static_cast<int64_t>(resp.data().size());
    grpc::Status s = reader->Finish();
    absl::Duration took = absl::Now() - start;
    if (!s.ok() || got != d.size()) {
      std::fprintf(stderr, "download failed: %s (%lld bytes)\n",
                   s.error_message().c_str(), static_cast<long long>(got));
      std::exit(1);
    }
    return took;
  }
};

// Writes the generated content to `path` (untimed), then times a plain
// read/write copy of it in 1 MiB buffers.
absl::Duration FileCopy(const std::string& dir, int64_t size) {
  std::string src = dir + "/copy-src", dst = dir + "/copy-dst";
  {
    int fd = open(src.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string piece;
    for (int64_t off = 0, i = 0; off < size; off += kPiece, ++i) {
      FillPiece(static_cast<uint64_t>(i), &piece);
      size_t n = static_cast<size_t>(std::min<int64_t>(kPiece, size - off));
      if (write(fd, piece.data(), n) != static_cast<ssize_t>(n)) std::exit(1);
    }
    close(fd);
  }
  absl::Time start = absl::Now();
  int in = open(src.c_str(), O_RDONLY);
  int out = open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char> buf(kPiece);
  ssize_t n;
  while ((n = read(in, buf.data(), buf.size())) > 0) {
    if (write(out, buf.data(), static_cast<size_t>(n)) != n) std::exit(1);
  }
  close(in);
  close(out);
  absl::Duration took = absl::Now() - start;
  unlink(src.c_str());
  unlink(dst.c_str());
  return took;
}

int64_t PeakRssKiB(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

int Run(int argc, char** argv) {
  std::string work_dir = "/tmp/pbrx-cache-bench";
  int64_t blob_size = 1ll << 30;
  int64_t rss_blob_size = 4ll << 30;
  int64_t rate = 1000;
  absl::Duration duration = absl::Seconds(10);
  std::string cache_bin = "cache/pbrx-cache";
  common::FlagParser flags("cache_bench");
  flags.AddString("work-dir", &work_dir,
                  "scratch directory (data dirs, copy baseline)");
  flags.AddByteSize("blob-size", &blob_size,
                    "blob size for the throughput benchmark");
  flags.AddByteSize("rss-blob-size", &rss_blob_size,
                    "blob size for the peak RSS benchmark (0 = skip)");
  flags.AddByteSize("rate", &rate, "GetActionResult requests per second");
  flags.AddDuration("seconds", &duration, "duration of the latency benchmark");
  flags.AddString("cache-bin", &cache_bin, "path of pbrx-cache");
  bool help = false;
  absl::Status parsed = flags.Parse(argc, argv, &help);
  if (help) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "cache_bench: %s\n",
                 std::string(parsed.message()).c_str());
    return 2;
  }
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);
  std::filesystem::create_directories(work_dir, ec);

  auto start_server = [&](testing_util::Subprocess& proc,
                          const std::string& data) {
    if (!proc.Start({cache_bin, "--listen=127.0.0.1:0", "--data-dir=" + data,
                     "--quiet"})
             .ok()) {
      std::fprintf(stderr, "cannot start %s\n", cache_bin.c_str());
      std::exit(1);
    }
    auto line = proc.ReadLine(absl::Seconds(30));
    if (!line.ok()) std::exit(1);
    return *line;
  };

  std::printf("pbrx-cache benchmarks (%s)\n\n",
              absl::FormatTime(absl::Now()).c_str());
  std::printf("%-44s %14s %14s %8s\n", "benchmark", "pbrx-cache", "baseline",
              "ratio");

  // 1. Throughput.
  {
    testing_util::Subprocess proc;
    Bench b;
    b.Connect(start_server(proc, work_dir + "/data1"));
    Digest d = DigestOfGenerated(blob_size);
    absl::Duration up = b.Upload(d);
    absl::Duration down = b.Download(d);
    absl::Duration copy = FileCopy(work_dir, blob_size);
    double mib = static_cast<double>(blob_size) / (1 << 20);
    std::printf(
        "%-44s %10.0f MiB/s %10.0f MiB/s %8.2f\n",
        absl::StrFormat("ByteStream write %.0f MiB vs file copy", mib).c_str(),
        mib / Seconds(up), mib / Seconds(copy), Seconds(copy) / Seconds(up));
    std::printf(
        "%-44s %10.0f MiB/s %10.0f MiB/s %8.2f\n",
        absl::StrFormat("ByteStream read %.0f MiB vs file copy", mib).c_str(),
        mib / Seconds(down), mib / Seconds(copy),
        Seconds(copy) / Seconds(down));
    std::printf(
        "%-44s %11.0f MB %14s %8s\n",
        absl::StrFormat("peak RSS after %.0f MiB in + out", mib).c_str(),
        PeakRssKiB(proc.pid()) / 1024.0, "-", "-");
    proc.Stop(SIGTERM, absl::Seconds(60)).IgnoreError();
  }

  // 2 and 3. Latency and FindMissingBlobs.
  {
    testing_util::Subprocess proc;
    Bench b;
    b.Connect(start_server(proc, work_dir + "/data2"));
    // 200 actions with a small output each, all hits.
    std::vector<Digest> actions;
    for (int i = 0; i < 200; ++i) {
      std::string out = absl::StrCat("output ", i);
      grpc::ClientContext ctx;
      re::BatchUpdateBlobsRequest up;
      auto* r = up.add_requests();
      *r->mutable_digest() = Digest::Of(out).ToProto();
      r->set_data(out);
      re::BatchUpdateBlobsResponse upr;
      b.cas->BatchUpdateBlobs(&ctx, up, &upr);
      Digest action = Digest::Of(absl::StrCat("action ", i));
      grpc::ClientContext ctx2;
      re::UpdateActionResultRequest ureq;
      *ureq.mutable_action_digest() = action.ToProto();
      auto* f = ureq.mutable_action_result()->add_output_files();
      f->set_path("out");
      *f->mutable_digest() = Digest::Of(out).ToProto();
      re::ActionResult res;
      if (!b.ac->UpdateActionResult(&ctx2, ureq, &res).ok()) std::exit(1);
      actions.push_back(action);
    }
    const int kClients = 8;
    OpenLoopResult load =
        RunOpenLoop(kClients, rate, duration, [&](int c, int64_t i) {
          grpc::ClientContext ctx;
          re::GetActionResultRequest req;
          *req.mutable_action_digest() =
              actions[(c * 7 + i) % actions.size()].ToProto();
          re::ActionResult res;
          return b.ac->GetActionResult(&ctx, req, &res).ok();
        });
    const std::vector<double>& latencies_us = load.latencies_us;
    const double achieved = load.achieved_rate;
    const int64_t errors = load.errors;
    std::printf("%-44s %11.0f us %14s %8s\n",
                absl::StrFormat("GetActionResult p50 @ %d req/s, %d clients",
                                rate, kClients)
                    .c_str(),
                Percentile(latencies_us, 0.50), "-", "-");
    std::printf(
        "%-44s %11.0f us %14s %8s\n",
        absl::StrFormat("GetActionResult p99 (achieved %.0f req/s, %lld err)",
                        achieved, static_cast<long long>(errors))
            .c_str(),
        Percentile(latencies_us, 0.99), "-", "-");

    // 5,000 present blobs, 5,000 absent.
    std::vector<Digest> digests;
    for (int batch = 0; batch < 10; ++batch) {
      grpc::ClientContext ctx;
      re::BatchUpdateBlobsRequest up;
      for (int i = 0; i < 500; ++i) {
        std::string content = absl::StrCat("present ", batch, " ", i);
        auto* r = up.add_requests();
        *r->mutable_digest() = Digest::Of(content).ToProto();
        r->set_data(content);
        digests.push_back(Digest::Of(content));
      }
      re::BatchUpdateBlobsResponse upr;
      b.cas->BatchUpdateBlobs(&ctx, up, &upr);
    }
    for (int i = 0; i < 5000; ++i)
      digests.push_back(Digest::Of(absl::StrCat("absent ", i)));
    re::FindMissingBlobsRequest fm;
    for (const Digest& d : digests) *fm.add_blob_digests() = d.ToProto();
    std::vector<double> fm_ms;
    for (int i = 0; i < 20; ++i) {
      grpc::ClientContext ctx;
      re::FindMissingBlobsResponse resp;
      absl::Time s = absl::Now();
      b.cas->FindMissingBlobs(&ctx, fm, &resp);
      fm_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - s));
      if (resp.missing_blob_digests_size() != 5000) {
        std::fprintf(stderr, "FindMissingBlobs returned %d missing\n",
                     resp.missing_blob_digests_size());
        std::exit(1);
      }
    }
    std::printf("%-44s %11.1f ms %14s %8s\n",
                "FindMissingBlobs 10,000 digests, p50 of 20",
                Percentile(fm_ms, 0.5), "-", "-");

    // A project tree of 2,000 files of 1 KiB in 20 directories, new to the
    // cache: uploaded as pbrx does (one FindMissingBlobs, batched writes)
    // vs one write call per blob after the same FindMissingBlobs.
    auto make_tree = [&](const std::string& dir, int seed) {
      for (int d = 0; d < 20; ++d) {
        std::filesystem::create_directories(absl::StrCat(dir, "/d", d));
        for (int f = 0; f < 100; ++f) {
          std::ofstream(absl::StrCat(dir, "/d", d, "/f", f))
              << absl::StrCat(seed, " ", d, " ", f, " ")
              << std::string(1000, 'x');
        }
      }
    };
    cache::GrpcBlobStore store(b.channel, {});
    const std::string batched_dir = work_dir + "/tree-batched";
    const std::string single_dir = work_dir + "/tree-single";
    make_tree(batched_dir, 1);
    make_tree(single_dir, 2);
    absl::Time t0 = absl::Now();
    absl::StatusOr<cache::UploadedTree> up =
        cache::UploadDirectory(batched_dir, store);
    const double batched_s = Seconds(absl::Now() - t0);
    std::vector<std::pair<Digest, std::string>> blobs;
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(single_dir)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path());
      std::string bytes((std::istreambuf_iterator<char>(in)), {});
      blobs.emplace_back(Digest::Of(bytes), std::move(bytes));
    }
    t0 = absl::Now();
    std::vector<Digest> all;
    for (const auto& [d, bytes] : blobs) all.push_back(d);
    absl::Status single = store.FindMissing(all).status();
    for (const auto& [d, bytes] : blobs) {
      if (!single.ok()) break;
      single = cache::WriteBlob(store, d, bytes);
    }
    const double single_s = Seconds(absl::Now() - t0);
    if (!up.ok() || !single.ok()) {
      std::fprintf(stderr, "tree upload failed: %s %s\n",
                   std::string(up.status().message()).c_str(),
                   std::string(single.message()).c_str());
      std::exit(1);
    }
    std::printf("%-44s %11.0f ms %11.0f ms %7.1fx\n",
                "upload 2,000 files of 1 KiB (vs a call each)",
                batched_s * 1000, single_s * 1000, single_s / batched_s);
    proc.Stop(SIGTERM, absl::Seconds(60)).IgnoreError();
  }

  // 4. Peak RSS while streaming a very large blob in and out.
  if (rss_blob_size > 0) {
    testing_util::Subprocess proc;
    Bench b;
    b.Connect(start_server(proc, work_dir + "/data3"));
    int64_t idle = PeakRssKiB(proc.pid());
    Digest d = DigestOfGenerated(rss_blob_size);
    absl::Duration up = b.Upload(d);
    absl::Duration down = b.Download(d);
    int64_t peak = PeakRssKiB(proc.pid());
    double gib = static_cast<double>(rss_blob_size) / (1ll << 30);
    std::printf("%-44s %11.0f MB %11.0f MB %8s\n",
                absl::StrFormat("peak RSS, %.0f GiB in (%.0fs) + out (%.0fs)",
                                gib, Seconds(up), Seconds(down))
                    .c_str(),
                peak / 1024.0, idle / 1024.0, "(idle)");
    proc.Stop(SIGTERM, absl::Seconds(120)).IgnoreError();
  }
  std::filesystem::remove_all(work_dir, ec);
  return ec ? 1 : 0;
}

}  // namespace
}  // namespace pbrx::bench

int main(int argc, char** argv) { return pbrx::bench::Run(argc, argv); }
