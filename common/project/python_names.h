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
