// pbrx-cache: the RocksDB-backed REAPI cache server (CAS, Action Cache,
// ByteStream, Capabilities) with Prometheus metrics.
//
// Prints the bound "HOST:PORT" as one line on stdout once it serves. Stops
// gracefully on SIGINT/SIGTERM. Exit codes: 0 clean shutdown, 1 runtime
// failure (database, bind), 2 invalid flags.
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cache/cache_server.h"
#include "common/clock.h"
#include "common/daemon.h"
#include "common/daemon_flags.h"
#include "common/flag_parser.h"
#include "common/logging.h"
#include "common/server_security.h"
#include "common/version.h"

int main(int argc, char** argv) {
  pbrx::cache::CacheServerOptions options;
  absl::Duration shutdown_grace = absl::Seconds(10);
  absl::Duration drain_period = absl::ZeroDuration();
  pbrx::common::FlagParser flags("pbrx-cache");
  flags.AddString("listen", &options.listen,
                  "gRPC address HOST:PORT (port 0 picks a free port)");
  flags.AddString("data-dir", &options.data_dir,
                  "directory of the RocksDB database");
  flags.AddByteSize("max-size", &options.max_size_bytes,
                    "bound on stored blob bytes, e.g. 50G (0 = unbounded)");
  flags.AddDuration("min-age", &options.min_age,
                    "blobs accessed more recently than this are never evicted");
  flags.AddString("metrics-listen", &options.metrics_listen,
                  "Prometheus /metrics address HOST:PORT (empty = off)");
  flags.AddBool(
      "fsync", &options.sync_writes,
      "fsync every commit (survive machine crashes, not only process crashes)");
  flags.AddByteSize("min-free-space", &options.min_free_bytes,
                    "writes that add data are refused (RESOURCE_EXHAUSTED) "
                    "while the data dir's disk has less free space, so "
                    "RocksDB never runs out; 0 = no check");
  flags.AddInt("max-tree-directories", &options.max_tree_directories,
               "GetTree refuses a tree with more directories than this");
  flags.AddDuration("shutdown-grace", &shutdown_grace,
                    "how long in-flight RPCs may run after SIGTERM");
  flags.AddDuration("drain-period", &drain_period,
                    "after SIGTERM, how long the health service says "
                    "NOT_SERVING while RPCs are still served (so probes and "
                    "load balancers move away) before shutting down");
  pbrx::common::AddServerSecurityFlags(flags, &options.security);
  pbrx::common::AddServerLimitFlags(flags, &options.limits);
  flags.Require("data-dir");

  if (std::optional<int> exit_code = pbrx::common::ParseDaemonFlags(
          "pbrx-cache", flags, argc, argv, nullptr)) {
    return *exit_code;
  }
  // Blob chunks are 1 MiB buffers: keep such allocations in mmap so freed
  // memory goes back to the kernel, and limit per-thread arenas, so RSS stays
  // flat however large the blobs that stream through.
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  mallopt(M_ARENA_MAX, 4);

  // Signals are taken synchronously by this thread; block them everywhere
  // before any other thread starts.
  const sigset_t signals = pbrx::common::BlockStopSignals();
  pbrx::common::UseReleaseMutexChecks();

  pbrx::common::RealClock clock;
  return pbrx::common::ServeUntilStopped(
      "pbrx-cache", signals, pbrx::cache::CacheServer::Create(options, &clock),
      shutdown_grace,
      [&](pbrx::cache::CacheServer& s) {
        return absl::StrCat(
            "pbrx-cache ", pbrx::kVersion, " serving on ", s.address(), " (",
            s.security(), ")", " with data in ", options.data_dir,
            s.metrics_address().empty()
                ? std::string()
                : absl::StrCat(", metrics on http://", s.metrics_address(),
                               "/metrics"));
      },
      drain_period);
}
