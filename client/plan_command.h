// `pbrx plan`: what `pbrx build-images` will make and need for each project,
// from static metadata, without building anything.
//
//   pbrx plan [--prefix P] [--tag T]... [--os-release FILE | --platform SEL]...
//             [--json] DIR...
//
// The target platform defaults to the default base image (Debian 12
// "bookworm"). Output: a text summary per project, or with --json the
// document described in docs/plan-json.md (schema "pbrx.plan/v2").
// Exit codes: 0 every project planned; 1 some project could not be planned
// (the others are still printed; errors go to stderr, one line each);
// 2 usage error.
#ifndef PBRX_CLIENT_PLAN_COMMAND_H_
#define PBRX_CLIENT_PLAN_COMMAND_H_

#include <iostream>
#include <string>
#include <vector>

#include "common/flag_parser.h"
#include "coordinator/planner.h"

namespace pbrx::client {

struct PlanCommandIo {
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;
};

struct PlanFlags {
  coordinator::PlanOptions options;
  std::string os_release;
  std::vector<std::string> platforms;
  bool json = false;
  std::vector<std::string> dirs;
};

// The command's flags, help and examples (also for completions and man
// pages).
void AddPlanFlags(common::FlagParser& p, PlanFlags* f);

int RunPlanCommand(const std::vector<std::string>& args, PlanCommandIo& io);

// The os-release of the default base image (debian:bookworm).
extern const char kDefaultBaseOsRelease[];

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_PLAN_COMMAND_H_
