// ImagePipeline: `pbrx build-images` for one project, in embedded mode. It
// turns the project into content-addressed steps (REAPI Actions run by the
// ActionRunner, so every step is an Action Cache entry), then assembles the
// images:
//   base (mmdebstrap, cached) -> base probe -> builder layer (compile
//   packages + build tools, apt in the sandbox) -> project wheel (PEP 517
//   via pip, network none) -> resolve (pip --dry-run --report against
//   --find-links and/or an index) -> fetch (by URL + sha256) -> wheel builds
//   for sdists -> runtime layer
//   (runtime packages) -> python layers (native installer, keyed by the
//   wheels and the scheme) -> image assembly (OCI layout).
// Independent steps of a build run concurrently (the runtime layer beside
// the builder chain, the per-image resolutions, the per-script layers), and
// Build may be called from several threads at once for different projects:
// bound and deduplicate the step runs with the decorators in
// executor/shared_executor.h.
#ifndef PBRX_COORDINATOR_IMAGE_PIPELINE_H_
#define PBRX_COORDINATOR_IMAGE_PIPELINE_H_

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cache/blob_store.h"
#include "common/action_executor.h"
#include "common/credentials.h"
#include "common/digest.h"
#include "coordinator/pipeline/step_report.h"

namespace pbrx::coordinator {

class ImageSink;

// The largest project wheel whose metadata the pipeline reads (in memory).
inline constexpr int64_t kMaxProjectWheelBytes = 256 << 20;

struct BuildOptions {
  std::string prefix;
  std::vector<std::string> tags;  // besides "latest"
  // Settings a flag or PBRX_* variable gave ("prefix", "tags"); the others
  // may come from the project's [tool.pbrx] (PlanOptions::pinned).
  std::set<std::string> pinned;
  std::string output_layout;  // OCI layout directory
  // "debian:SUITE" (built with mmdebstrap) or "oci:DIR[:REF]".
  std::string base = "debian:bookworm";
  // A debian: base's mirror ("" = Debian's) and the archive state it is
  // keyed by ("" = unknown): see common/base/debian_base.h.
  std::string mirror;
  std::string base_release;
  // The platform of an oci:/docker:// base's image ("" = linux/amd64, what
  // executors run by default): OS/ARCH[/VARIANT].
  std::string platform;
  // A local directory of wheels/sdists ("" = none): the client's flag; the
  // pipeline reads only find_links_root (client/build_uploads.h).
  std::string find_links;
  // A PEP 503 index (and extra ones). Resolutions against an index are
  // never cached (an index changes); fetched files are, by URL and sha256.
  std::string index_url;
  std::vector<std::string> extra_index_urls;
  // Hosts pip may reach over plain http (pip --trusted-host HOST[:PORT]).
  std::vector<std::string> trusted_hosts;
  // Credentials for the index hosts, split off the URLs where they entered
  // (coordinator/build_inputs.h): given to resolve and fetch steps beside
  // their Actions, never in them.
  std::vector<common::HostCredential> index_credentials;
  // pip constraints files (`-c`), e.g. a lock file of `name==version` pins:
  // their contents are inputs of every resolution.
  // The client's files; the pipeline reads only constraint_blobs.
  std::vector<std::string> constraints;
  // What the pipeline reads these inputs from: the CAS, never a path on
  // the host it runs on. find_links_root: the tree of the find-links
  // directory (unset: none); constraint_blobs: each constraints file's
  // content, in order; base_layout_root: the OCI layout of an oci: base
  // (`base` then only names it, e.g. in the base.name annotation) and
  // base_ref the image in it ("": its only one). Unset base_layout_root
  // with an oci: base: the layout is read from the directory in `base`.
  std::optional<common::Digest> find_links_root;
  std::vector<common::Digest> constraint_blobs;
  std::optional<common::Digest> base_layout_root;
  std::string base_ref;
  std::string scratch_dir;  // host scratch space
  // The version of pbr projects when set (the user's PBR_VERSION); else git,
  // else the static [metadata] version.
  std::string pbr_version;
  int64_t source_date_epoch = 0;
  // Called as steps start and finish with a one-line status such as
  // "pbrx-service: 5 cached, 2 run; running wheel-build ffibridge-1.0.tar.gz".
  std::function<void(const std::string&)> progress;
  // Runs this build's steps instead of the pipeline's own executor (the
  // farm: one executor per build, for fairness and cancellation).
  common::ActionExecutor* executor = nullptr;
  // Called (from any thread) as each step finishes.
  std::function<void(const StepReport&)> on_step;
  // Called as each step starts (progress lines).
  std::function<void(const std::string& kind, const std::string& name)>
      on_step_start;
  // Where the images go (coordinator/image_sink.h); nullptr: the OCI layout
  // output_layout.
  ImageSink* images = nullptr;
  // The project as a tree already in the CAS (its root digest: the farm,
  // where the client uploaded it); Build's `dir` then only names it in
  // messages and nothing is read from disk. Unset: the directory `dir`.
  std::optional<common::Digest> source_root;
  // Each image gets an SPDX SBOM and a SLSA provenance statement as OCI
  // referrers (coordinator/pipeline/attestations.h), naming `builder_id`
  // as the builder.
  bool attestations = true;
  std::string builder_id = "urn:pbrx:builder:embedded";
};

struct ProjectBuild {
  std::string name;
  std::string version;
  // The base as the images' base annotations record it: a pullable name
  // (a docker:// base with its resolved digest) and its manifest (or, for
  // a debian: base, its layer) digest.
  std::string base_name;
  std::string base_digest;
  std::vector<BuiltImage> images;
  std::vector<StepReport> steps;
};

class ImagePipeline {
 public:
  // `runner` runs the steps of builds that name no executor of their own.
  ImagePipeline(cache::BlobStore* cas, common::ActionExecutor* runner)
      : cas_(cas), runner_(runner) {}

  // Builds the images of the project in `dir`. A failed step is an error
  // naming the step, its command and the tail of its log; nothing is tagged
  // for the project then. Thread-safe.
  absl::StatusOr<ProjectBuild> Build(const std::string& dir,
                                     const BuildOptions& options);

 private:
  cache::BlobStore* cas_;
  common::ActionExecutor* runner_;
  // One base build at a time (concurrent builds of the same base wait for
  // the first and then hit the cache).
  absl::Mutex base_mu_;
  // One writer of the output layout at a time.
  absl::Mutex layout_mu_;
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_IMAGE_PIPELINE_H_
