// EmbeddedFarm: embedded mode's whole farm in the `pbrx` process: the
// cache (RocksDB under the cache dir), the executor runtime (layer store,
// bubblewrap sandbox in user namespaces, the egress tools check, the
// cgroup policy), the action runner bounded to --jobs concurrent steps with
// in-flight dedup, and the image pipeline over it. The build-images
// command only parses, calls Open, builds and prints.
#ifndef PBRX_CLIENT_EMBEDDED_FARM_H_
#define PBRX_CLIENT_EMBEDDED_FARM_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cache/blob_store.h"
#include "cache/completeness_checking_action_cache.h"
#include "cache/rocksdb_action_cache.h"
#include "cache/rocksdb_blob_store.h"
#include "cache/rocksdb_storage.h"
#include "common/clock.h"
#include "coordinator/image_pipeline.h"
#include "executor/action_runner.h"
#include "executor/bubblewrap_sandbox.h"
#include "executor/layer_store.h"
#include "executor/sandbox_ids.h"
#include "executor/shared_executor.h"

namespace pbrx::client {

struct EmbeddedFarmOptions {
  std::string cache_dir;  // absolute; db/, layers/, runs/, tmp/ below it
  int jobs = 1;           // steps run at once
  // Step limits (the --action-* flags); work_root and the rest are set by
  // Open.
  executor::ActionRunnerOptions runner;
  executor::SandboxIds ids;
  bool allow_no_cgroups = false;
  int64_t source_date_epoch = 0;  // layers' mtimes
};

class EmbeddedFarm {
 public:
  // Opens the cache and checks the host (sandbox ids unused, bubblewrap,
  // egress tools, cgroups). The error is one line for the user. Without
  // usable cgroups it fails unless allow_no_cgroups, and then `*warning`
  // says that steps run without them.
  static absl::StatusOr<std::unique_ptr<EmbeddedFarm>> Open(
      const EmbeddedFarmOptions& options, std::string* warning);

  cache::BlobStore& cas() { return *cas_; }
  coordinator::ImagePipeline& pipeline() { return *pipeline_; }

 private:
  EmbeddedFarm() = default;

  common::RealClock clock_;
  std::unique_ptr<cache::RocksDbStorage> storage_;
  std::unique_ptr<cache::RocksDbBlobStore> cas_;
  std::unique_ptr<cache::RocksDbActionCache> raw_ac_;
  std::unique_ptr<cache::CompletenessCheckingActionCache> ac_;
  std::unique_ptr<executor::LayerStore> layers_;
  std::unique_ptr<executor::BubblewrapSandbox> sandbox_;
  std::unique_ptr<executor::ActionRunner> runner_;
  std::unique_ptr<executor::BoundedExecutor> bounded_;
  std::unique_ptr<executor::InflightDedupExecutor> shared_;
  std::unique_ptr<coordinator::ImagePipeline> pipeline_;
};

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_EMBEDDED_FARM_H_
