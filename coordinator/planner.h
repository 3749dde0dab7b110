// Planner: from a project's model and its bindep file to what a build will
// make and need, without running anything:
//   - images as pbrx names them: [prefix/]{name}-base and one [prefix/]{script}
//     per console script, tagged "latest" plus the requested tags, each with
//     the extra pbrx installs into it ({name}_base for the base image,
//     {script} for a script's image, dashes turned into underscores; the
//     PEP 685 spelling of the same extra is accepted) and, for scripts, the
//     CMD (the script in the base's scripts directory);
//   - the distro packages for the target platform, split as pbrx did:
//     compile = rules active under profile "compile" (builder only),
//     runtime = rules active under "default" (final images);
//   - the steps (kinds of the content-addressed actions) the build needs.
// Pure: all inputs are given; it reads no files.
#ifndef PBRX_COORDINATOR_PLANNER_H_
#define PBRX_COORDINATOR_PLANNER_H_

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bindep/bindep_file.h"
#include "common/project/project.h"

namespace pbrx::coordinator {

struct PlanOptions {
  std::string prefix;             // "" or e.g. "registry.example.org:5000/team"
  std::vector<std::string> tags;  // in addition to "latest"
  std::vector<std::string> platform_atoms;  // "platform:..." of the target base
  std::string scripts_dir = "/usr/local/bin";
  // Settings a flag or PBRX_* variable gave ("prefix", "tags"): the
  // project's [tool.pbrx] values do not replace them.
  std::set<std::string> pinned;
};

struct Naming {
  std::string prefix;
  std::vector<std::string> tags;
};

// The prefix and tags a project's images get: its [tool.pbrx] values
// unless the build pins them. INVALID_ARGUMENT naming pyproject.toml's
// [tool.pbrx] line for a bad value there.
absl::StatusOr<Naming> EffectiveNaming(const common::project::Project& project,
                                       const PlanOptions& options);

struct ImagePlan {
  std::string kind;                 // "base" or "script"
  std::string name;                 // repository, with prefix, without tag
  std::vector<std::string> refs;    // name:tag for every tag
  std::string script;               // scripts only
  std::string entry_point;          // scripts only
  std::vector<std::string> cmd;     // scripts only
  std::string wanted_extra;         // the extra the naming rules look for
  std::vector<std::string> extras;  // the project's matching extra (0 or 1)
  std::vector<std::string> extra_requirements;
};

struct StepPlan {
  std::string
      kind;  // base-probe, distro-layer (builder, runtime), project-wheel,
             // resolve, fetch, wheel-build, packages-probe, python-layer,
             // image-assembly: the kinds a build reports
  std::string name;
  std::string detail;
};

struct ProjectPlan {
  common::project::Project project;
  bool images_known = true;  // false when metadata comes from the wheel build
  std::vector<ImagePlan> images;
  std::vector<std::string> compile_packages;
  std::vector<std::string> runtime_packages;
  std::vector<StepPlan> steps;
  std::vector<std::string> warnings;
};

// INVALID_ARGUMENT for a bad prefix or tag.
absl::Status ValidatePlanOptions(const PlanOptions& options);

ProjectPlan PlanProject(const common::project::Project& project,
                        const std::optional<common::bindep::BindepFile>& bindep,
                        const PlanOptions& options);

// Image names must be unique across the projects of one call: the messages
// name each clash ("image 'x' of project B clashes with project A"), empty
// when none.
std::vector<std::string> FindImageClashes(
    const std::vector<ProjectPlan>& plans);

// The image repository name for a project or script name: lower case, with
// characters OCI does not allow in a path component replaced by '-'.
std::string ImageNameComponent(const std::string& name);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PLANNER_H_
