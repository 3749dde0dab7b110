// StepReport: what a build reports about one step it ran or found cached
// (the --json report, progress events, the coordinator's metrics).
#ifndef PBRX_COORDINATOR_PIPELINE_STEP_REPORT_H_
#define PBRX_COORDINATOR_PIPELINE_STEP_REPORT_H_

#include <string>
#include <utility>
#include <vector>

namespace pbrx::coordinator {

struct StepReport {
  std::string kind;
  std::string name;
  bool cached = false;
  double seconds = 0;
  std::string action;  // action digest "hash/size"
  // Another build ran the same step at the same moment; this one waited for
  // it (not cached, not run on this build's behalf).
  bool joined = false;
  // What the cache key is made of, so a miss can be explained: the command
  // line, the platform properties and the input root digest.
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> platform;
  std::string input_root;
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_STEP_REPORT_H_
