#include "common/project/ini_file.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace pbrx::common::project {
namespace {

size_t Indent(absl::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  return i;
}

absl::Status Error(absl::string_view file, int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", what));
}

}  // namespace

const IniEntry* IniSection::Find(absl::string_view key) const {
  for (const IniEntry& e : entries) {
    if (absl::EqualsIgnoreCase(e.key, key)) return &e;
  }
  return nullptr;
}

const IniSection* IniFile::Find(absl::string_view section) const {
  for (const IniSection& s : sections) {
    if (s.name == section) return &s;
  }
  return nullptr;
}

absl::StatusOr<IniFile> ParseIni(absl::string_view content,
                                 absl::string_view filename) {
  IniFile file;
  absl::flat_hash_map<std::string, int> section_lines;  // name -> line
  absl::flat_hash_map<std::string, int> key_lines;  // of the current section
  file.filename = std::string(filename);
  std::vector<absl::string_view> lines = absl::StrSplit(content, '\n');
  IniSection* section = nullptr;
  IniEntry* entry = nullptr;
  size_t entry_indent = 0;
  int pending_blank = 0;  // blank lines that may belong to a continued value
  for (size_t n = 0; n < lines.size(); ++n) {
    int line_no = static_cast<int>(n) + 1;
    absl::string_view raw = lines[n];
    absl::ConsumeSuffix(&raw, "\r");
    absl::string_view stripped = absl::StripAsciiWhitespace(raw);
    if (stripped.empty()) {
      if (entry != nullptr) ++pending_blank;
      continue;
    }
    if (absl::StartsWith(stripped, "#") || absl::StartsWith(stripped, ";"))
      continue;
    size_t indent = Indent(raw);
    if (entry != nullptr && indent > entry_indent) {
      // Continuation of the current value.
      for (; pending_blank > 0; --pending_blank) entry->value += "\n";
      if (!entry->value.empty()) entry->value += "\n";
      entry->value += std::string(stripped);
      continue;
    }
    pending_blank = 0;
    if (stripped.front() == '[') {
      size_t close = stripped.rfind(']');
      if (close == absl::string_view::npos || close < 2) {
        return Error(filename, line_no,
                     absl::StrCat("malformed section header '", stripped,
                                  "' (expected [name])"));
      }
      std::string name(stripped.substr(1, close - 1));
      // Duplicates are found through maps, so a hostile file with many
      // sections or keys parses in linear time.
      auto [first, fresh] = section_lines.try_emplace(name, line_no);
      if (!fresh) {
        return Error(filename, line_no,
                     absl::StrCat("duplicate section [", name,
                                  "] (first at line ", first->second, ")"));
      }
      file.sections.push_back(IniSection{name, line_no, {}});
      section = &file.sections.back();
      key_lines.clear();
      entry = nullptr;
      continue;
    }
    size_t delim = stripped.find_first_of("=:");
    if (delim == absl::string_view::npos) {
      return Error(
          filename, line_no,
          absl::StrCat(
              "expected 'key = value', a [section] header or a comment, got '",
              stripped, "'"));
    }
    if (section == nullptr) {
      return Error(filename, line_no,
                   "key outside any section (the file must start with a "
                   "[section] header)");
    }
    std::string key(absl::StripAsciiWhitespace(stripped.substr(0, delim)));
    if (key.empty())
      return Error(filename, line_no, "empty key before the delimiter");
    auto [prev, fresh] =
        key_lines.try_emplace(absl::AsciiStrToLower(key), line_no);
    if (!fresh) {
      return Error(
          filename, line_no,
          absl::StrCat("duplicate key '", key, "' in section [", section->name,
                       "] (first at line ", prev->second, ")"));
    }
    section->entries.push_back(IniEntry{
        key,
        std::string(absl::StripAsciiWhitespace(stripped.substr(delim + 1))),
        line_no});
    entry = &section->entries.back();
    entry_indent = indent;
  }
  return file;
}

}  // namespace pbrx::common::project
