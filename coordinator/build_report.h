// The report of `pbrx build-images --json` (schema pbrx.build/v2, see
// docs/plan-json.md): per project its images and steps with cache hits,
// keys and, for executed steps, the inputs of the key. Embedded mode and
// the farm's coordinator write it with this one function, so both modes
// report byte for byte alike.
#ifndef PBRX_COORDINATOR_BUILD_REPORT_H_
#define PBRX_COORDINATOR_BUILD_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/image_pipeline.h"

namespace pbrx::coordinator {

// `dirs` as the user named them; `builds[i]` is dirs[i]'s outcome.
std::string BuildReportJson(
    const std::vector<std::string>& dirs,
    const std::vector<absl::StatusOr<ProjectBuild>>& builds);

// Progress events for --json (one compact JSON object per line on stderr):
//   {"event":"step","dir":D,"kind":K,"name":N,"cached":B,"joined":B,"seconds":S}
//   {"event":"project","dir":D,"name":N,"version":V,"images":I}
//   {"event":"project","dir":D,"error":MESSAGE}
std::string StepEventJson(const std::string& dir, const StepReport& step);
std::string ProjectEventJson(const std::string& dir,
                             const absl::StatusOr<ProjectBuild>& build);

// (cached, run) steps of a build; image assembly and steps joined to
// another build's run are not counted.
std::pair<int, int> StepCounts(const ProjectBuild& build);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_BUILD_REPORT_H_
