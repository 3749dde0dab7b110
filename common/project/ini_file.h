// An INI reader with the semantics of Python's configparser as setuptools
// and pbr read setup.cfg: "[section]" headers; "key = value" or
// "key: value" (split at the first delimiter); values continued on lines
// indented deeper than their key (blank lines inside kept); full-line
// comments starting with '#' or ';' (also indented ones); no inline
// comments; duplicate sections or keys are errors (strict mode). Keys keep
// their case; lookups are case-insensitive.
#ifndef PBRX_COMMON_PROJECT_INI_FILE_H_
#define PBRX_COMMON_PROJECT_INI_FILE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pbrx::common::project {

struct IniEntry {
  std::string key;
  std::string value;  // stripped; continuation lines joined with '\n'
  int line = 0;
};

struct IniSection {
  std::string name;
  int line = 0;
  std::vector<IniEntry> entries;
  // The entry named `key` (case-insensitive), or nullptr.
  const IniEntry* Find(absl::string_view key) const;
};

struct IniFile {
  std::string filename;
  std::vector<IniSection> sections;
  const IniSection* Find(absl::string_view section) const;
};

// INVALID_ARGUMENT "FILE:LINE: ..." on a malformed line, a key outside any
// section, or a duplicate section or key.
absl::StatusOr<IniFile> ParseIni(absl::string_view content,
                                 absl::string_view filename);

}  // namespace pbrx::common::project

#endif  // PBRX_COMMON_PROJECT_INI_FILE_H_
