// The parsed form of a bindep file (bindep.txt / other-requirements.txt) and
// its parser. The grammar is bindep's own, reproduced exactly (it is a PEG:
// ordered choice, greedy repetition):
//
//   rules      = (rule | comment | blank)*
//   rule       = name selector? version? ('\n' | comment)
//   name       = letterOrDigit (letterOrDigit | '.' | '+' | '-' | '_' | '/')+
//   ws         = ' '+
//   profile    = '!'? ('a'..'z' | '0'..'9' | ':' | '-' | '.')+
//   profiles   = '(' (ws? profile)* ws? ')'          a group: AND of its
//   members group      = profiles | profile selector   = ws '[' (ws? group)*
//   ws? ']' oneversion = ('<=' | '<' | '!=' | '==' | '>=' | '>') debversion
//   version    = ws oneversion (',' oneversion)*
//   comment    = ws? '#' (any but '\n')* '\n'
//   blank      = ws? '\n'
//
// with Debian version syntax for debversion. Only spaces count as
// whitespace; a file whose last line lacks '\n' is read as if it had one (as
// bindep does since 2.10). A parse error names file:line:column, what was
// expected there and what was found, at the furthest point the parser
// reached (which is where bindep's parser reports it too).
#ifndef PBRX_COMMON_BINDEP_BINDEP_FILE_H_
#define PBRX_COMMON_BINDEP_BINDEP_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pbrx::common::bindep {

struct Profile {
  bool positive = true;  // false for "!name"
  std::string name;
  bool operator==(const Profile& o) const {
    return positive == o.positive && name == o.name;
  }
};

// One entry of a selector: a single profile, or a parenthesised group.
struct SelectorItem {
  bool is_group = false;
  Profile profile;             // when !is_group
  std::vector<Profile> group;  // when is_group (may be empty)
};

struct VersionConstraint {
  std::string op;       // "<=", "<", "!=", "==", ">=", ">"
  std::string version;  // a Debian-syntax version
  bool operator==(const VersionConstraint& o) const {
    return op == o.op && version == o.version;
  }
};

struct Rule {
  std::string name;
  std::vector<SelectorItem> selector;
  std::vector<VersionConstraint> versions;
  int line = 0;  // 1-based line of the rule in its file
};

struct BindepFile {
  std::string filename;
  std::vector<Rule> rules;
};

// Parses `content`; `filename` only labels errors. INVALID_ARGUMENT
// "FILE:LINE:COL: expected X, found Y" on a syntax error.
absl::StatusOr<BindepFile> ParseBindepFile(absl::string_view content,
                                           absl::string_view filename);

}  // namespace pbrx::common::bindep

#endif  // PBRX_COMMON_BINDEP_BINDEP_FILE_H_
