#include "client/embedded_farm.h"

#include "common/base/debian_base.h"
#include "common/status_macros.h"
#include "common/step_tool_runner.h"
#include "executor/binfmt.h"
#include "executor/egress_network.h"

namespace pbrx::client {

absl::StatusOr<std::unique_ptr<EmbeddedFarm>> EmbeddedFarm::Open(
    const EmbeddedFarmOptions& options, std::string* warning) {
  std::unique_ptr<EmbeddedFarm> f(new EmbeddedFarm());
  cache::RocksDbStorageOptions so;
  so.path = options.cache_dir + "/db";
  ASSIGN_OR_RETURN(f->storage_, cache::RocksDbStorage::Open(so));
  ASSIGN_OR_RETURN(f->cas_, cache::RocksDbBlobStore::Create(f->storage_.get(),
                                                            &f->clock_, {}));
  f->raw_ac_ = std::make_unique<cache::RocksDbActionCache>(f->storage_.get());
  f->ac_ = std::make_unique<cache::CompletenessCheckingActionCache>(
      f->raw_ac_.get(), f->cas_.get());
  // Steps run as root of a user namespace mapped to `ids`; layers are
  // extracted with owners in that range.
  RETURN_IF_ERROR(executor::CheckSandboxIdsUnused(options.ids));
  executor::LayerLimits layer_limits;
  layer_limits.ids = options.ids;
  ASSIGN_OR_RETURN(
      f->layers_, executor::LayerStore::Create(options.cache_dir + "/layers",
                                               f->cas_.get(), 0, layer_limits));
  executor::BubblewrapOptions sandbox_options;
  sandbox_options.ids = options.ids;
  ASSIGN_OR_RETURN(f->sandbox_,
                   executor::BubblewrapSandbox::Create(sandbox_options));
  // Steps that download run in a network of their own (slirp4netns).
  RETURN_IF_ERROR(executor::CheckEgressTools(executor::EgressOptions{}));
  // Never a silent fallback: without cgroups a step's memory and process
  // limits are rlimits only, which a step can evade.
  if (!f->sandbox_->uses_cgroups()) {
    if (!options.allow_no_cgroups) {
      return absl::FailedPreconditionError(
          "no writable memory and pids cgroups: step limits would be "
          "rlimits only; give --allow-no-cgroups to build like that");
    }
    *warning =
        "running steps WITHOUT cgroups (--allow-no-cgroups): memory and "
        "process limits are rlimits only";
  }
  executor::ActionRunnerOptions ro = options.runner;
  ro.work_root = options.cache_dir + "/runs";
  ro.step_tool_binary = common::StepToolBinary();  // pbrx's main runs them
  ro.debian_base_builder =
      !ro.step_tool_binary.empty() && common::base::MmdebstrapInstalled();
  ro.worker_name = "pbrx-embedded";
  // Steps of another platform (--platform) run where qemu-user's binfmt
  // handlers run its binaries.
  for (const std::string& p : executor::BinfmtPlatforms(executor::kBinfmtDir))
    ro.platforms.push_back(p);
  ro.layers = f->layers_.get();
  ro.layer_mtime = options.source_date_epoch;
  f->runner_ = std::make_unique<executor::ActionRunner>(
      f->cas_.get(), f->ac_.get(), f->sandbox_.get(), &f->clock_, ro);
  // At most `jobs` steps run at once; projects building the same step at
  // the same moment share one run.
  f->bounded_ = std::make_unique<executor::BoundedExecutor>(f->runner_.get(),
                                                            options.jobs);
  f->shared_ =
      std::make_unique<executor::InflightDedupExecutor>(f->bounded_.get());
  f->pipeline_ = std::make_unique<coordinator::ImagePipeline>(f->cas_.get(),
                                                              f->shared_.get());
  return f;
}

}  // namespace pbrx::client
