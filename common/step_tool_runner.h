// RunStepTool: the step tools' entry point (see common/step_tool.h), which
// a binary that offers them calls first thing in main:
//   if (common::IsStepToolInvocation(argc, argv))
//     return common::RunStepTool(argc, argv);
#ifndef PBRX_COMMON_STEP_TOOL_RUNNER_H_
#define PBRX_COMMON_STEP_TOOL_RUNNER_H_

#include <string>

namespace pbrx::common {

// This binary's path (/proc/self/exe resolved), to bind into tool steps'
// sandboxes; "" if it cannot be read or was deleted since it started.
std::string StepToolBinary();

// Runs the tool argv[2] with argv[3..]. Returns the exit code: 0 done, 1 the
// tool failed (the reason on stderr), 2 usage.
int RunStepTool(int argc, char** argv);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_STEP_TOOL_RUNNER_H_
