// Python packaging name rules: PEP 503 project-name normalisation (also the
// PEP 685 rule for extras), the distribution name at the front of a PEP 508
// requirement, and reading requirements.txt the way pbr does.
#ifndef PBRX_COMMON_PROJECT_PYTHON_NAMES_H_
#define PBRX_COMMON_PROJECT_PYTHON_NAMES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pbrx::common::project {

// Lower case, every run of '-', '_' and '.' replaced by one '-'.
std::string NormalizeName(absl::string_view name);

// Whether `name` is a valid project/extra name: ASCII letters and digits,
// '.', '_' and '-' inside, starting and ending with a letter or digit.
bool IsValidName(absl::string_view name);

// A console/gui script name, which becomes a file name in the image and the
// name of its image: an ASCII letter, digit or '_' first, then letters,
// digits, '.', '_', '+' and '-', at most 128 characters.
bool IsScriptName(absl::string_view name);

// Whether `text` is dotted Python identifiers ("a.b_c.d"; ASCII only).
bool IsDottedIdentifier(absl::string_view text);

// An entry point "NAME = module.path:attr.path [extra, ...]": INVALID_ARGUMENT
// "entry point 'NAME = TARGET' is not ..." unless NAME is a script name,
// the module and attribute paths are dotted identifiers and the extras are
// valid names. Checked in one pass, in time linear in the text.
absl::Status CheckEntryPoint(absl::string_view name, absl::string_view target);

// A version as a file name and label may carry it: ASCII letters, digits,
// '.', '+', '!', '_' and '-', 1 to 64 characters (every PEP 440 version).
bool IsVersionText(absl::string_view version);

// The name at the start of a PEP 508 requirement ("Foo[bar]>=1; x" ->
// "Foo"); INVALID_ARGUMENT when there is none.
absl::StatusOr<std::string> RequirementName(absl::string_view requirement);

struct RequirementsFile {
  std::vector<std::string> requirements;  // in file order
  std::vector<std::string>
      skipped;  // option lines pbr does not turn into requirements
};

// Reads requirements.txt content: drops blank lines and comments (whole-line
// and " #" inline), keeps option lines ("-r", "-e", "--index-url", ...) aside.
// INVALID_ARGUMENT "FILE:LINE: ..." for a line that is not a requirement.
absl::StatusOr<RequirementsFile> ParseRequirementsFile(
    absl::string_view content, absl::string_view filename);

}  // namespace pbrx::common::project

#endif  // PBRX_COMMON_PROJECT_PYTHON_NAMES_H_
