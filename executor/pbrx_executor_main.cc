// pbrx-executor: runs the coordinator's leased actions in bubblewrap
// sandboxes, with inputs and outputs in the shared cache.
//
//   pbrx-executor --coordinator grpc://HOST:PORT --cache grpc://HOST:PORT
//       [--slots N] [--work-dir DIR] [--name NAME] [--platform KEY=VALUE]...
//       [--action-memory SIZE] [--action-pids N] [--action-timeout-max D]
//       [--action-tmp-size SIZE] [--metrics-listen HOST:PORT]
//       [--egress-deny CIDR]... [--egress-isolation=false]
//
// Offers by default: network=none, network=egress (unless --egress=false),
// capture=outputs, capture=rootfs-diff and rootfs=* (any layer stack),
// tools=pbrx-1 (pbrx's step tools), debian-base=mmdebstrap (when mmdebstrap
// is installed and network=egress is offered), plus --platform pairs.
// Exit codes: 0 stopped by SIGINT/SIGTERM, 1 runtime failure (work dir,
// sandbox), 2 invalid flags.
#include <unistd.h>

#include "common/clock.h"
#include "common/daemon.h"
#include "common/daemon_flags.h"
#include "common/flag_parser.h"
#include "common/grpc_channel.h"
#include "common/step_tool.h"
#include "common/step_tool_runner.h"
#include "executor/executor_server.h"

int main(int argc, char** argv) {
  // This binary is also the step tools' (common/step_tool.h): run inside a
  // step's sandbox, bound there read-only.
  if (pbrx::common::IsStepToolInvocation(argc, argv))
    return pbrx::common::RunStepTool(argc, argv);
  pbrx::executor::ExecutorServerOptions o;
  pbrx::executor::ActionRunnerOptions& ro = o.limits;
  std::string id_range = o.ids.ToString();
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  o.name = host;
  pbrx::common::FlagParser flags("pbrx-executor");
  flags.AddString("coordinator", &o.coordinator,
                  "the coordinator, grpc://HOST:PORT");
  flags.AddString("cache", &o.cache, "the cache server, grpc://HOST:PORT");
  flags.AddInt("slots", &o.slots, "actions run at once");
  flags.AddString("work-dir", &o.work_dir,
                  "local layers and per-action work directories");
  flags.AddString("name", &o.name, "name shown by the coordinator");
  flags.AddByteSize("layer-cache-size", &o.layer_cache_bytes,
                    "bound on extracted layers kept on disk, e.g. 20G "
                    "(least recently used go first; 0 = unbounded)");
  flags.AddByteSize("min-free-space", &o.min_free_bytes,
                    "free space the work dir needs before an action starts; "
                    "below it (or when a command fills the disk) the action "
                    "is handed back to run elsewhere");
  flags.AddByteSize("max-output-bytes", &o.max_output_bytes,
                    "cap on one action's outputs (files, directories, stdout "
                    "and stderr), e.g. 16G; over it the action fails, naming "
                    "the limit (0 = none)");
  flags.AddByteSize("action-memory", &ro.memory_bytes,
                    "memory one action may use (cgroup memory.max, no swap), "
                    "e.g. 4G");
  flags.AddInt("action-pids", &ro.max_pids,
               "processes and threads one action may have at once");
  flags.AddDuration("action-timeout-max", &ro.max_timeout,
                    "wall-time cap of one action; an Action's own timeout is "
                    "clamped to it, e.g. 2h");
  flags.AddByteSize("action-tmp-size", &ro.tmp_bytes,
                    "size of an action's /tmp (a tmpfs, counted in its "
                    "memory), e.g. 2G");
  flags.AddString("metrics-listen", &o.metrics_listen,
                  "Prometheus /metrics address HOST:PORT (empty = off)");
  flags.AddStringList("platform", &o.platform,
                      "extra platform property KEY=VALUE offered (repeat)");
  flags.AddBool(
      "egress", &o.egress,
      "offer network=egress (steps that download: distro packages, "
      "index resolution); --egress=false on hosts without a route out");
  flags.AddBool("egress-isolation", &o.egress_isolation,
                "network=egress steps get a network namespace of their own "
                "(slirp4netns) that cannot reach this host or the farm; "
                "--egress-isolation=false shares this host's network with "
                "them (unsafe: only where slirp4netns cannot run)");
  flags.AddStringList("egress-deny", &o.egress_deny,
                      "IPv4 CIDR egress steps may never reach, besides this "
                      "host's addresses, link-local/metadata addresses and "
                      "the coordinator's and cache's (repeat)");
  flags.AddBool("allow-no-cgroups", &o.allow_no_cgroups,
                "start even without writable memory and pids cgroups (limits "
                "then fall back to rlimits, which a step can evade); without "
                "it such a host is refused");
  flags.AddString("sandbox-id-range", &id_range,
                  "FIRST:COUNT: host user and group ids a step's ids "
                  "0..COUNT-1 map to (its root is FIRST, never the host's "
                  "root); no user or group of this host may have one");
  flags.AddString("cgroup-root", &o.cgroup_root,
                  "where the cgroup v1 controllers are mounted");
  std::string token_file;
  flags.AddString("tls-ca", &o.channel.tls.ca_file,
                  "PEM CA bundle that verifies grpcs:// --coordinator and "
                  "--cache (default: the system's)");
  flags.AddString("tls-cert", &o.channel.tls.cert_file,
                  "PEM client certificate for grpcs:// peers (mTLS)");
  flags.AddString("tls-key", &o.channel.tls.key_file,
                  "the PEM private key of --tls-cert");
  flags.AddString("token-file", &token_file,
                  "a file whose first line is the bearer token sent to the "
                  "coordinator and the cache");
  flags.Require("coordinator");
  flags.Require("cache");
  if (std::optional<int> exit_code = pbrx::common::ParseDaemonFlags(
          "pbrx-executor", flags, argc, argv, [&]() -> absl::Status {
            absl::StatusOr<pbrx::executor::SandboxIds> ids =
                pbrx::executor::ParseSandboxIds(id_range);
            if (!ids.ok()) return ids.status();
            o.ids = *ids;
            return pbrx::common::LoadTokenFile(token_file, &o.channel.token);
          })) {
    return *exit_code;
  }

  const sigset_t signals = pbrx::common::BlockStopSignals();
  pbrx::common::UseReleaseMutexChecks();
  pbrx::common::RealClock clock;
  return pbrx::common::ServeUntilStopped(
      "pbrx-executor", signals,
      pbrx::executor::ExecutorServer::Create(o, &clock), absl::ZeroDuration(),
      [](pbrx::executor::ExecutorServer& s) { return s.Describe(); });
}
