#include "common/project/python_names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace pbrx::common::project {
namespace {
bool IsSep(char c) { return c == '-' || c == '_' || c == '.'; }
}  // namespace

std::string NormalizeName(absl::string_view name) {
  std::string out;
  bool in_sep = false;
  for (char c : name) {
    if (IsSep(c)) {
      if (!in_sep) out.push_back('-');
      in_sep = true;
    } else {
      out.push_back(absl::ascii_tolower(c));
      in_sep = false;
    }
  }
  return out;
}

bool IsValidName(absl::string_view name) {
  if (name.empty() || !absl::ascii_isalnum(name.front()) ||
      !absl::ascii_isalnum(name.back())) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && !IsSep(c)) return false;
  }
  return true;
}

absl::StatusOr<std::string> RequirementName(absl::string_view requirement) {
  absl::string_view r = absl::StripLeadingAsciiWhitespace(requirement);
  size_t i = 0;
  while (i < r.size() && (absl::ascii_isalnum(r[i]) || IsSep(r[i]))) ++i;
  absl::string_view name = r.substr(0, i);
  if (!IsValidName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", requirement, "' does not start with a project name"));
  }
  return std::string(name);
}

absl::StatusOr<RequirementsFile> ParseRequirementsFile(
    absl::string_view content, absl::string_view filename) {
  RequirementsFile out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++line_no;
    absl::ConsumeSuffix(&line, "\r");
    size_t hash = line.find(" #");
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '-') {
      out.skipped.push_back(std::string(line));
      continue;
    }
    absl::StatusOr<std::string> name = RequirementName(line);
    if (!name.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(filename, ":", line_no, ": ", name.status().message()));
    }
    out.requirements.push_back(std::string(line));
  }
  return out;
}

}  // namespace pbrx::common::project
