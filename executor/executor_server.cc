#include "executor/executor_server.h"

#include <sched.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/debian_base.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/step_tool.h"
#include "common/step_tool_runner.h"
#include "common/version.h"
#include "executor/binfmt.h"
#include "executor/egress_network.h"
#include "executor/executor_metrics.h"
#include "executor/work_dir.h"

namespace pbrx::executor {
namespace {

// A host that cannot run steps is not a usage error: never INVALID_ARGUMENT
// (which makes a daemon exit 2 as for a bad flag).
absl::Status HostError(const absl::Status& status) {
  if (status.ok() || status.code() != absl::StatusCode::kInvalidArgument)
    return status;
  return absl::FailedPreconditionError(status.message());
}

absl::Status CheckOptions(const ExecutorServerOptions& o) {
  if (o.slots < 1 || o.slots > 256)
    return absl::InvalidArgumentError("--slots must be 1..256");
  for (const std::string& p : o.platform) {
    std::vector<std::string> kv = absl::StrSplit(p, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--platform ", p, ": expected KEY=VALUE"));
    }
  }
  for (const std::string& cidr : o.egress_deny) {
    if (!IsIpv4Cidr(cidr)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--egress-deny ", cidr, ": expected an IPv4 CIDR a.b.c.d/n"));
    }
  }
  if (o.channel.tls.any() && !common::IsTlsUrl(o.coordinator) &&
      !common::IsTlsUrl(o.cache)) {
    return absl::InvalidArgumentError(
        "--tls-ca, --tls-cert and --tls-key need a grpcs:// --coordinator or "
        "--cache");
  }
  return ValidateLimitFlags(o.limits);
}

// The TLS files serve whichever peers are grpcs://.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelTo(
    const std::string& flag, const std::string& url,
    const common::ChannelOptions& options) {
  common::ChannelOptions o = options;
  if (!common::IsTlsUrl(url)) o.tls = {};
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      common::MakeChannel(url, o);
  if (!channel.ok()) return common::Annotate(channel.status(), flag);
  return channel;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExecutorServer>> ExecutorServer::Create(
    const ExecutorServerOptions& options, common::Clock* clock) {
  std::unique_ptr<ExecutorServer> server(new ExecutorServer());
  RETURN_IF_ERROR(server->Init(options, clock));
  return server;
}

absl::Status ExecutorServer::Init(const ExecutorServerOptions& options,
                                  common::Clock* clock) {
  options_ = options;
  RETURN_IF_ERROR(CheckOptions(options_));
  ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::Channel> coordinator,
      ChannelTo("--coordinator", options_.coordinator, options_.channel));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> cache,
                   ChannelTo("--cache", options_.cache, options_.channel));

  properties_ = {{"capture", "outputs"},
                 {"capture", "rootfs-diff"},
                 {"network", "none"},
                 {"rootfs", "*"}};
  if (options_.egress) properties_.emplace_back("network", "egress");
  // Python layers' wheel installs run this binary in a sandbox.
  const std::string step_tool_binary = common::StepToolBinary();
  if (!step_tool_binary.empty()) {
    properties_.emplace_back(common::kStepToolsProperty,
                             common::kStepToolsVersion);
  }
  // The Debian base is built here too when this host can.
  const bool debian_base = !step_tool_binary.empty() && options_.egress &&
                           common::base::MmdebstrapInstalled();
  if (debian_base) {
    properties_.emplace_back(common::kDebianBaseProperty,
                             common::kDebianBaseBuilder);
  }
  for (const std::string& p : options_.platform) {
    std::vector<std::string> kv = absl::StrSplit(p, absl::MaxSplits('=', 1));
    properties_.emplace_back(kv[0], kv[1]);
  }
  // Foreign platforms qemu-user runs here, unless --platform names
  // platforms itself.
  if (std::none_of(properties_.begin(), properties_.end(),
                   [](const auto& kv) { return kv.first == "platform"; })) {
    for (const std::string& p : BinfmtPlatforms(options_.binfmt_dir))
      properties_.emplace_back("platform", p);
  }

  // Overlay mounts of rootfs stacks live in a mount namespace of our own:
  // if this process dies (even by kill -9), they go with it.
  if (unshare(CLONE_NEWNS) != 0 ||
      mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot make a private mount namespace: ", strerror(errno),
                     " (pbrx-executor needs root)"));
  }
  // Private, ours, and without the run dirs a previous process left.
  RETURN_IF_ERROR(HostError(PrepareWorkDir(options_.work_dir)));
  cache::GrpcCacheOptions co;
  cas_ = std::make_unique<cache::GrpcBlobStore>(cache, co);
  ac_ = std::make_unique<cache::GrpcActionCache>(cache, co);
  RETURN_IF_ERROR(HostError(CheckSandboxIdsUnused(options_.ids)));
  LayerLimits layer_limits;
  layer_limits.ids = options_.ids;
  absl::StatusOr<std::unique_ptr<LayerStore>> layers =
      LayerStore::Create(options_.work_dir + "/layers", cas_.get(),
                         options_.layer_cache_bytes, layer_limits);
  RETURN_IF_ERROR(HostError(layers.status()));
  layers_ = std::move(*layers);

  BubblewrapOptions bo;
  bo.cgroup_root = options_.cgroup_root;
  bo.ids = options_.ids;
  bo.isolate_egress = options_.egress_isolation;
  bo.egress.denied = options_.egress_deny;
  // The farm's own hosts are never an egress destination.
  for (const std::string* url : {&options_.coordinator, &options_.cache}) {
    for (const std::string& a :
         ResolveIpv4(common::ChannelTarget(*url).value()))
      bo.egress.denied.push_back(a);
  }
  if (options_.egress && options_.egress_isolation) {
    if (absl::Status s = CheckEgressTools(bo.egress); !s.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(s.message(), "; or run with --egress=false"));
    }
  }
  if (options_.egress && !options_.egress_isolation) {
    common::LogWarning(
        "pbrx-executor: network=egress steps share this host's network "
        "(--egress-isolation=false): they can reach its loopback and the "
        "farm");
  }
  absl::StatusOr<std::unique_ptr<BubblewrapSandbox>> sandbox =
      BubblewrapSandbox::Create(bo);
  RETURN_IF_ERROR(HostError(sandbox.status()));
  sandbox_ = std::move(*sandbox);
  // Never a silent fallback: without cgroups a step's memory and process
  // limits are rlimits only.
  if (!sandbox_->uses_cgroups()) {
    if (!options_.allow_no_cgroups) {
      return absl::FailedPreconditionError(absl::StrCat(
          "no writable memory and pids cgroups under ", options_.cgroup_root,
          ": step limits would be rlimits only; give --allow-no-cgroups to "
          "run like that"));
    }
    common::LogWarning(
        "pbrx-executor: running WITHOUT cgroups (--allow-no-cgroups): step "
        "memory and process limits are rlimits only");
  }
  limits_mechanism_ = !sandbox_->uses_cgroups()  ? "rlimit"
                      : sandbox_->uses_cgroup2() ? "cgroup_v2"
                                                 : "cgroup_v1";

  ExecutorDescription description;
  description.limits_mechanism = limits_mechanism_;
  description.memory_bytes = options_.limits.memory_bytes;
  description.max_pids = options_.limits.max_pids;
  description.max_timeout = options_.limits.max_timeout;
  description.tmp_bytes = options_.limits.tmp_bytes;
  description.slots = options_.slots;
  registry_ = std::make_shared<prometheus::Registry>();
  RegisterExecutorMetrics(*registry_, description);
  if (!options_.metrics_listen.empty()) {
    absl::StatusOr<common::MetricsEndpoint> endpoint =
        common::StartMetricsEndpoint(options_.metrics_listen);
    RETURN_IF_ERROR(HostError(endpoint.status()));
    metrics_ = std::move(*endpoint);
    metrics_.exposer->RegisterCollectable(registry_);
    layer_metrics_ = std::make_shared<LayerCacheCollector>(layers_.get());
    metrics_.exposer->RegisterCollectable(layer_metrics_);
  }

  ActionRunnerOptions ro = options_.limits;
  ro.work_root = options_.work_dir + "/runs";
  ro.step_tool_binary = step_tool_binary;
  ro.debian_base_builder = debian_base;
  for (const auto& [key, value] : properties_)
    if (key == "platform") ro.platforms.push_back(value);
  ro.worker_name = options_.name;
  ro.layers = layers_.get();
  ro.record_in_action_cache = false;  // the coordinator checks and records
  ro.min_free_bytes = options_.min_free_bytes;
  ro.max_output_bytes = options_.max_output_bytes;
  runner_ = std::make_unique<ActionRunner>(cas_.get(), ac_.get(),
                                           sandbox_.get(), clock, ro);

  WorkerClientOptions wo;
  wo.name = options_.name;
  wo.properties = properties_;
  wo.slots = static_cast<int>(options_.slots);
  metered_ = std::make_unique<MeteredExecutor>(runner_.get(), *registry_);
  client_ = std::make_unique<WorkerClient>(coordinator, metered_.get(), wo);
  return absl::OkStatus();
}

ExecutorServer::~ExecutorServer() { Shutdown(absl::ZeroDuration()); }

absl::Status ExecutorServer::Start() {
  if (serve_.joinable())
    return absl::FailedPreconditionError("executor already started");
  serve_ = std::thread([this] { client_->Run(); });
  return absl::OkStatus();
}

void ExecutorServer::Shutdown(absl::Duration) {
  if (!serve_.joinable()) return;
  client_->Stop();
  serve_.join();
}

std::string ExecutorServer::Describe() const {
  const ActionRunnerOptions& l = options_.limits;
  return absl::StrCat(
      "pbrx-executor ", kVersion, " ", options_.name, ": ", options_.slots,
      " slot(s), coordinator ", options_.coordinator, ", cache ",
      options_.cache, ", work dir ", options_.work_dir, ", limits per action (",
      limits_mechanism_, "): memory ", l.memory_bytes, " bytes, ", l.max_pids,
      " pids, ", absl::FormatDuration(l.max_timeout), ", /tmp ", l.tmp_bytes,
      " bytes; steps run as ids ", options_.ids.ToString(), "; offers ",
      absl::StrJoin(properties_, " ", absl::PairFormatter("=")),
      metrics_.address.empty()
          ? ""
          : absl::StrCat(", metrics on http://", metrics_.address, "/metrics"));
}

}  // namespace pbrx::executor
