#include "common/project/python_names.h"

#include <algorithm>

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

bool IsScriptName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  if (!absl::ascii_isalnum(name[0]) && name[0] != '_') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '+' ||
           c == '-';
  });
}

bool IsDottedIdentifier(absl::string_view text) {
  bool at_start = true;  // of an identifier
  for (char c : text) {
    if (c == '.') {
      if (at_start) return false;
      at_start = true;
    } else if (absl::ascii_isalpha(c) || c == '_' ||
               (!at_start && absl::ascii_isdigit(c))) {
      at_start = false;
    } else {
      return false;
    }
  }
  return !at_start;
}

absl::Status CheckEntryPoint(absl::string_view name, absl::string_view target) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry point '", name, " = ", target, "' ", why));
  };
  if (!IsScriptName(name)) {
    return bad(
        "has a name that is not a file name (letters, digits, . _ + -, at "
        "most 128)");
  }
  absl::string_view t = absl::StripAsciiWhitespace(target);
  size_t bracket = t.find('[');
  absl::string_view extras;
  if (bracket != absl::string_view::npos) {
    extras = t.substr(bracket);
    t = absl::StripTrailingAsciiWhitespace(t.substr(0, bracket));
    if (extras.back() != ']') return bad("has unterminated extras");
    extras = extras.substr(1, extras.size() - 2);
    for (absl::string_view e : absl::StrSplit(extras, ',')) {
      if (!IsValidName(absl::StripAsciiWhitespace(e)))
        return bad("has an extra that is not a valid name");
    }
  }
  size_t colon = t.find(':');
  if (colon == absl::string_view::npos ||
      !IsDottedIdentifier(absl::StripAsciiWhitespace(t.substr(0, colon))) ||
      !IsDottedIdentifier(absl::StripAsciiWhitespace(t.substr(colon + 1)))) {
    return bad("is not 'name = module.path:attr.path' with Python identifiers");
  }
  return absl::OkStatus();
}

bool IsVersionText(absl::string_view version) {
  if (version.empty() || version.size() > 64) return false;
  return std::all_of(version.begin(), version.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '+' || c == '!' ||
           c == '_' || c == '-';
  });
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
