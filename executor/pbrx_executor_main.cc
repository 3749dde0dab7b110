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
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cache/grpc_cache_client.h"
#include "common/base/debian_base.h"
#include "common/clock.h"
#include "common/daemon.h"
#include "common/flag_parser.h"
#include "common/grpc_channel.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/step_tool.h"
#include "common/step_tool_runner.h"
#include "common/version.h"
#include "executor/action_runner.h"
#include "executor/bubblewrap_sandbox.h"
#include "executor/executor_metrics.h"
#include "executor/layer_store.h"
#include "executor/sandbox_ids.h"
#include "executor/work_dir.h"
#include "executor/worker_client.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "pbrx-executor: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // This binary is also the step tools' (common/step_tool.h): run inside a
  // step's sandbox, bound there read-only.
  if (pbrx::common::IsStepToolInvocation(argc, argv))
    return pbrx::common::RunStepTool(argc, argv);
  std::string coordinator, cache, work_dir = "/var/tmp/pbrx-executor", name;
  std::vector<std::string> platform;
  int64_t slots = 1;
  int64_t layer_cache = int64_t{20} << 30;
  int64_t min_free = int64_t{1} << 30;
  int64_t max_output = int64_t{16} << 30;
  pbrx::executor::ActionRunnerOptions ro;
  std::string metrics_listen;
  std::vector<std::string> egress_deny;
  bool egress_isolation = true;
  bool version = false, quiet = false, egress = true;
  bool allow_no_cgroups = false;
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string id_range = pbrx::executor::SandboxIds().ToString();
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  name = host;
  pbrx::common::FlagParser flags("pbrx-executor");
  flags.AddString("coordinator", &coordinator,
                  "the coordinator, grpc://HOST:PORT");
  flags.AddString("cache", &cache, "the cache server, grpc://HOST:PORT");
  flags.AddInt("slots", &slots, "actions run at once");
  flags.AddString("work-dir", &work_dir,
                  "local layers and per-action work directories");
  flags.AddString("name", &name, "name shown by the coordinator");
  flags.AddByteSize("layer-cache-size", &layer_cache,
                    "bound on extracted layers kept on disk, e.g. 20G "
                    "(least recently used go first; 0 = unbounded)");
  flags.AddByteSize("min-free-space", &min_free,
                    "free space the work dir needs before an action starts; "
                    "below it (or when a command fills the disk) the action "
                    "is handed back to run elsewhere");
  flags.AddByteSize("max-output-bytes", &max_output,
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
  flags.AddString("metrics-listen", &metrics_listen,
                  "Prometheus /metrics address HOST:PORT (empty = off)");
  flags.AddStringList("platform", &platform,
                      "extra platform property KEY=VALUE offered (repeat)");
  flags.AddBool(
      "egress", &egress,
      "offer network=egress (steps that download: distro packages, "
      "index resolution); --egress=false on hosts without a route out");
  flags.AddBool("egress-isolation", &egress_isolation,
                "network=egress steps get a network namespace of their own "
                "(slirp4netns) that cannot reach this host or the farm; "
                "--egress-isolation=false shares this host's network with "
                "them (unsafe: only where slirp4netns cannot run)");
  flags.AddStringList("egress-deny", &egress_deny,
                      "IPv4 CIDR egress steps may never reach, besides this "
                      "host's addresses, link-local/metadata addresses and "
                      "the coordinator's and cache's (repeat)");
  flags.AddBool("allow-no-cgroups", &allow_no_cgroups,
                "start even without writable memory and pids cgroups (limits "
                "then fall back to rlimits, which a step can evade); without "
                "it such a host is refused");
  flags.AddString("sandbox-id-range", &id_range,
                  "FIRST:COUNT: host user and group ids a step's ids "
                  "0..COUNT-1 map to (its root is FIRST, never the host's "
                  "root); no user or group of this host may have one");
  flags.AddString("cgroup-root", &cgroup_root,
                  "where the cgroup v1 controllers are mounted");
  pbrx::common::ChannelOptions channel_options;
  std::string token_file;
  flags.AddString("tls-ca", &channel_options.tls.ca_file,
                  "PEM CA bundle that verifies grpcs:// --coordinator and "
                  "--cache (default: the system's)");
  flags.AddString("tls-cert", &channel_options.tls.cert_file,
                  "PEM client certificate for grpcs:// peers (mTLS)");
  flags.AddString("tls-key", &channel_options.tls.key_file,
                  "the PEM private key of --tls-cert");
  flags.AddString("token-file", &token_file,
                  "a file whose first line is the bearer token sent to the "
                  "coordinator and the cache");
  flags.AddBool("quiet", &quiet, "log only warnings and errors");
  flags.AddBool("version", &version, "print the version and exit");
  flags.Require("coordinator");
  flags.Require("cache");
  bool help = false;
  absl::Status parsed = flags.Parse(argc, argv, &help);
  if (help) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (version) {
    std::printf("pbrx-executor %s\n", pbrx::kVersion);
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> properties = {
      {"capture", "outputs"},
      {"capture", "rootfs-diff"},
      {"network", "none"},
      {"rootfs", "*"}};
  if (egress) properties.emplace_back("network", "egress");
  // Python layers' wheel installs run this binary in a sandbox.
  const std::string step_tool_binary = pbrx::common::StepToolBinary();
  if (!step_tool_binary.empty()) {
    properties.emplace_back(pbrx::common::kStepToolsProperty,
                            pbrx::common::kStepToolsVersion);
  }
  // The Debian base is built here too when this host can.
  const bool debian_base = !step_tool_binary.empty() && egress &&
                           pbrx::common::base::MmdebstrapInstalled();
  if (debian_base) {
    properties.emplace_back(pbrx::common::kDebianBaseProperty,
                            pbrx::common::kDebianBaseBuilder);
  }
  for (const std::string& p : platform) {
    std::vector<std::string> kv = absl::StrSplit(p, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty()) {
      parsed = absl::InvalidArgumentError(
          absl::StrCat("--platform ", p, ": expected KEY=VALUE"));
      break;
    }
    properties.emplace_back(kv[0], kv[1]);
  }
  if (parsed.ok() && (slots < 1 || slots > 256))
    parsed = absl::InvalidArgumentError("--slots must be 1..256");
  if (parsed.ok()) parsed = pbrx::executor::ValidateLimitFlags(ro);
  absl::StatusOr<pbrx::executor::SandboxIds> ids =
      pbrx::executor::ParseSandboxIds(id_range);
  if (parsed.ok() && !ids.ok()) parsed = ids.status();
  if (parsed.ok())
    parsed = pbrx::common::LoadTokenFile(token_file, &channel_options.token);
  // The TLS files serve whichever peers are grpcs://.
  auto options_for = [&](const std::string& url) {
    pbrx::common::ChannelOptions o = channel_options;
    if (!pbrx::common::IsTlsUrl(url)) o.tls = {};
    return o;
  };
  if (parsed.ok() && channel_options.tls.any() &&
      !pbrx::common::IsTlsUrl(coordinator) && !pbrx::common::IsTlsUrl(cache)) {
    parsed = absl::InvalidArgumentError(
        "--tls-ca, --tls-cert and --tls-key need a grpcs:// --coordinator or "
        "--cache");
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> coordinator_channel =
      pbrx::common::MakeChannel(coordinator, options_for(coordinator));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> cache_channel =
      pbrx::common::MakeChannel(cache, options_for(cache));
  if (parsed.ok() && !coordinator_channel.ok())
    parsed =
        pbrx::common::Annotate(coordinator_channel.status(), "--coordinator");
  if (parsed.ok() && !cache_channel.ok())
    parsed = pbrx::common::Annotate(cache_channel.status(), "--cache");
  if (!parsed.ok()) {
    std::fprintf(stderr, "pbrx-executor: %s (see --help)\n",
                 std::string(parsed.message()).c_str());
    return 2;
  }
  pbrx::common::SetInfoLogging(!quiet);

  const sigset_t signals = pbrx::common::BlockStopSignals();

  // Overlay mounts of rootfs stacks live in a mount namespace of our own:
  // if this process dies (even by kill -9), they go with it.
  if (unshare(CLONE_NEWNS) != 0 ||
      mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Fail(absl::StrCat("cannot make a private mount namespace: ",
                             strerror(errno), " (pbrx-executor needs root)"));
  }
  // Private, ours, and without the run dirs a previous process left.
  if (absl::Status s = pbrx::executor::PrepareWorkDir(work_dir); !s.ok())
    return Fail(std::string(s.message()));
  pbrx::cache::GrpcCacheOptions co;
  pbrx::cache::GrpcBlobStore cas(*cache_channel, co);
  pbrx::cache::GrpcActionCache ac(*cache_channel, co);
  if (absl::Status s = pbrx::executor::CheckSandboxIdsUnused(*ids); !s.ok())
    return Fail(std::string(s.message()));
  pbrx::executor::LayerLimits layer_limits;
  layer_limits.ids = *ids;
  auto layers = pbrx::executor::LayerStore::Create(work_dir + "/layers", &cas,
                                                   layer_cache, layer_limits);
  if (!layers.ok()) return Fail(std::string(layers.status().message()));
  pbrx::executor::BubblewrapOptions bo;
  bo.cgroup_root = cgroup_root;
  bo.ids = *ids;
  bo.isolate_egress = egress_isolation;
  for (const std::string& cidr : egress_deny) {
    if (!pbrx::executor::IsIpv4Cidr(cidr)) {
      std::fprintf(stderr,
                   "pbrx-executor: --egress-deny %s: expected an IPv4 CIDR "
                   "a.b.c.d/n (see --help)\n",
                   cidr.c_str());
      return 2;
    }
    bo.egress.denied.push_back(cidr);
  }
  // The farm's own hosts are never an egress destination.
  for (const std::string* url : {&coordinator, &cache}) {
    for (const std::string& a :
         pbrx::executor::ResolveIpv4(pbrx::common::ChannelTarget(*url).value()))
      bo.egress.denied.push_back(a);
  }
  if (egress && egress_isolation) {
    if (absl::Status s = pbrx::executor::CheckEgressTools(bo.egress); !s.ok())
      return Fail(absl::StrCat(s.message(), "; or run with --egress=false"));
  }
  if (egress && !egress_isolation) {
    pbrx::common::LogWarning(
        "pbrx-executor: network=egress steps share this host's network "
        "(--egress-isolation=false): they can reach its loopback and the "
        "farm");
  }
  auto sandbox = pbrx::executor::BubblewrapSandbox::Create(bo);
  if (!sandbox.ok()) return Fail(std::string(sandbox.status().message()));
  // Never a silent fallback: without cgroups a step's memory and process
  // limits are rlimits only.
  if (!(*sandbox)->uses_cgroups()) {
    if (!allow_no_cgroups) {
      return Fail(absl::StrCat(
          "no writable memory and pids cgroups under ", cgroup_root,
          ": step limits would be rlimits only; give --allow-no-cgroups to "
          "run like that"));
    }
    pbrx::common::LogWarning(
        "pbrx-executor: running WITHOUT cgroups (--allow-no-cgroups): step "
        "memory and process limits are rlimits only");
  }
  pbrx::executor::ExecutorDescription description;
  description.limits_mechanism = !(*sandbox)->uses_cgroups()  ? "rlimit"
                                 : (*sandbox)->uses_cgroup2() ? "cgroup_v2"
                                                              : "cgroup_v1";
  description.memory_bytes = ro.memory_bytes;
  description.max_pids = ro.max_pids;
  description.max_timeout = ro.max_timeout;
  description.tmp_bytes = ro.tmp_bytes;
  description.slots = slots;
  auto registry = std::make_shared<prometheus::Registry>();
  pbrx::executor::RegisterExecutorMetrics(*registry, description);
  pbrx::common::MetricsEndpoint metrics;
  if (!metrics_listen.empty()) {
    auto endpoint = pbrx::common::StartMetricsEndpoint(metrics_listen);
    if (!endpoint.ok()) return Fail(std::string(endpoint.status().message()));
    metrics = std::move(*endpoint);
    metrics.exposer->RegisterCollectable(registry);
  }
  pbrx::common::RealClock clock;
  ro.work_root = work_dir + "/runs";
  ro.step_tool_binary = step_tool_binary;
  ro.debian_base_builder = debian_base;
  ro.worker_name = name;
  ro.layers = layers->get();
  ro.record_in_action_cache = false;  // the coordinator checks and records
  ro.min_free_bytes = min_free;
  ro.max_output_bytes = max_output;
  pbrx::executor::ActionRunner runner(&cas, &ac, sandbox->get(), &clock, ro);

  pbrx::executor::WorkerClientOptions wo;
  wo.name = name;
  wo.properties = properties;
  wo.slots = static_cast<int>(slots);
  pbrx::executor::WorkerClient client(*coordinator_channel, &runner, wo);
  pbrx::common::LogInfo(
      "pbrx-executor ", pbrx::kVersion, " ", name, ": ", slots,
      " slot(s), coordinator ", coordinator, ", cache ", cache, ", work dir ",
      work_dir, ", limits per action (", description.limits_mechanism,
      "): memory ", ro.memory_bytes, " bytes, ", ro.max_pids, " pids, ",
      absl::FormatDuration(ro.max_timeout), ", /tmp ", ro.tmp_bytes,
      " bytes; steps run as ids ", ids->ToString(), "; offers ",
      absl::StrJoin(properties, " ", absl::PairFormatter("=")),
      metrics.address.empty()
          ? ""
          : absl::StrCat(", metrics on http://", metrics.address, "/metrics"));
  std::thread serve([&] { client.Run(); });
  int sig = pbrx::common::WaitForStopSignal(signals);
  pbrx::common::LogInfo("pbrx-executor: received signal ", sig, ", stopping");
  client.Stop();
  serve.join();
  return 0;
}
