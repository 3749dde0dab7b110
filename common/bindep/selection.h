// Which rules of a bindep file apply, as bindep decides it. A rule's selector
// is split into a platform half (profiles named "platform:...") and a user
// half (every other profile, and every parenthesised group). Each half votes:
//   - empty half: no vote;
//   - a matching negative profile ("!x" with x active): no, always;
//   - else yes if a positive profile or a group matches, or if the half holds
//     no positive profile and no group (only negatives); otherwise no.
// A group matches when all of its members hold (positives active, negatives
// inactive). The rule is active unless a half votes no.
#ifndef PBRX_COMMON_BINDEP_SELECTION_H_
#define PBRX_COMMON_BINDEP_SELECTION_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "common/bindep/bindep_file.h"

namespace pbrx::common::bindep {

// The rules active under `profiles` (user profiles such as "default" or
// "compile", plus the platform's "platform:..." atoms), in file order.
std::vector<Rule> ActiveRules(const BindepFile& file,
                              const absl::flat_hash_set<std::string>& profiles);

// The configuration (non-platform) profiles the file names, sorted, each
// once; members of groups included.
std::vector<std::string> ConfigurationProfiles(const BindepFile& file);

}  // namespace pbrx::common::bindep

#endif  // PBRX_COMMON_BINDEP_SELECTION_H_
