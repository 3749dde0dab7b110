// DependencyResolver: what a project's image installs besides the project.
// One resolve step per image (pip's dry-run install report against
// --find-links and/or the index, in the builder), then per chosen file: a
// wheel from --find-links as it is, a file from the index fetched by URL
// and verified by its sha256 (a cached fetch step), an sdist built into a
// wheel in the builder without network (each sdist once per build, however
// many resolutions chose it). Thread-safe: resolutions run concurrently.
#ifndef PBRX_COORDINATOR_PIPELINE_DEPENDENCY_RESOLVER_H_
#define PBRX_COORDINATOR_PIPELINE_DEPENDENCY_RESOLVER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/credentials.h"
#include "common/digest.h"
#include "coordinator/pipeline/step_runner.h"

namespace pbrx::coordinator {

// Wheels to install: (file name, digest), in pip's order.
using WheelList = std::vector<std::pair<std::string, common::Digest>>;

struct ResolveInputs {
  // The project's own wheel (what is resolved, with extras).
  std::string project_wheel_file;
  common::Digest project_wheel = common::Digest::Empty();
  // The find-links tree in the CAS (unset: none), constraints files'
  // contents, the index and its settings.
  std::optional<common::Digest> find_links_root;
  std::vector<common::Digest> constraint_blobs;
  std::string index_url;
  std::vector<std::string> extra_index_urls;
  std::vector<std::string> trusted_hosts;
  // For the index hosts (never in an Action: common/credentials.h).
  std::vector<common::HostCredential> credentials;
  // Where pip runs: the builder's rootfs (comma-separated layer digests).
  std::string builder_rootfs;
};

class DependencyResolver {
 public:
  // Writes the resolve steps' input root (dist/, links/, constraints/).
  // INVALID_ARGUMENT when the find-links root is not a Directory.
  static absl::StatusOr<std::unique_ptr<DependencyResolver>> Create(
      StepRunner* steps, ResolveInputs inputs);

  // The wheels the project with `extras` needs (the project itself left
  // out); `name` names the resolution in reports. A step's failure as
  // StepRunner reports it; INTERNAL when pip chose a file that is neither
  // in --find-links nor on an index.
  absl::StatusOr<WheelList> Resolve(const std::string& name,
                                    const std::vector<std::string>& extras);

  // Where a wheel of a resolution came from (for SBOMs and provenance).
  struct Origin {
    std::string source;      // the index URL (no credentials) or "find-links"
    std::string sdist_file;  // the sdist it was built from, "" if none
    common::Digest sdist = common::Digest::Empty();
  };
  // The origin of the wheel `file` one of the resolutions chose (an empty
  // Origin for one it did not).
  Origin OriginOf(const std::string& file) const;

 private:
  DependencyResolver(StepRunner* steps, ResolveInputs inputs)
      : steps_(*steps), in_(std::move(inputs)) {}
  // The wheel built from the sdist `file` (built once).
  absl::StatusOr<std::pair<std::string, common::Digest>> SdistWheel(
      const std::string& file, const common::Digest& sdist);
  // The file at `url` (an index's), fetched and checked against `sha256`.
  absl::StatusOr<common::Digest> Fetch(const std::string& url,
                                       const std::string& file,
                                       const std::string& sha256);

  StepRunner& steps_;
  const ResolveInputs in_;
  common::Digest root_ = common::Digest::Empty();
  std::vector<std::string> constraint_args_;
  std::map<std::string, common::Digest> link_files_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::pair<std::string, common::Digest>> built_
      ABSL_GUARDED_BY(mu_);  // sdist file -> its wheel
  std::map<std::string, Origin> origins_ ABSL_GUARDED_BY(mu_);  // wheel file
  std::map<std::string, std::shared_ptr<absl::Mutex>> sdist_locks_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_DEPENDENCY_RESOLVER_H_
