#include "common/wheel/wheel_metadata.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/project/python_names.h"
#include "common/wheel/wheel_installer.h"

namespace pbrx::common::wheel {
namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

absl::Status Invalid(const std::string& path, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", why));
}

// Reads the metadata of the wheel `a` was opened on (`path` names it).
absl::StatusOr<WheelMetadata> ReadOpenWheel(archive* a,
                                            const std::string& path) {
  std::string metadata, entry_points;
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    const char* raw = archive_entry_pathname(e);
    std::vector<std::string> parts = absl::StrSplit(raw ? raw : "", '/');
    if (parts.size() != 2 || !absl::EndsWith(parts[0], ".dist-info")) continue;
    std::string* target = parts[1] == "METADATA"           ? &metadata
                          : parts[1] == "entry_points.txt" ? &entry_points
                                                           : nullptr;
    if (target == nullptr) continue;
    target->clear();
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
      if (static_cast<int64_t>(target->size()) + n > kMaxMetadataFileBytes) {
        return Invalid(path, absl::StrCat(raw, " is larger than ",
                                          kMaxMetadataFileBytes, " bytes"));
      }
      target->append(buf, n);
    }
    if (n < 0) {
      return Invalid(
          path,
          absl::StrCat(raw, " cannot be read: ", archive_error_string(a)));
    }
  }
  WheelMetadata m;
  for (absl::string_view line : absl::StrSplit(metadata, '\n')) {
    line = absl::StripSuffix(line, "\r");
    if (line.empty()) break;  // headers end at the first blank line
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    std::string key(line.substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    if (key == "Name") m.name = value;
    if (key == "Version") m.version = value;
    if (key == "Requires-Dist") m.requires_dist.push_back(value);
    if (key == "Provides-Extra") m.extras.push_back(value);
    if (key == "Home-page" && m.source.empty()) m.source = value;
    if (key == "Project-URL") {
      size_t comma = value.find(',');
      std::string label = absl::AsciiStrToLower(value.substr(0, comma));
      if (comma != std::string::npos &&
          (label == "source" || label == "repository")) {
        m.source =
            std::string(absl::StripAsciiWhitespace(value.substr(comma + 1)));
      }
    }
  }
  if (m.name.empty() || m.version.empty())
    return Invalid(path, "METADATA lacks Name/Version");
  if (!project::IsValidName(m.name))
    return Invalid(path, absl::StrCat("Name '", absl::CHexEscape(m.name),
                                      "' is not a valid project name"));
  if (!project::IsVersionText(m.version))
    return Invalid(path, absl::StrCat("Version '", absl::CHexEscape(m.version),
                                      "' is not a version"));
  for (const std::string& x : m.extras) {
    if (!project::IsValidName(x))
      return Invalid(path, absl::StrCat("Provides-Extra '", absl::CHexEscape(x),
                                        "' is not a valid extra name"));
  }
  absl::StatusOr<std::vector<ScriptEntryPoint>> scripts =
      ParseScriptEntryPoints(entry_points);
  if (!scripts.ok()) {
    return Invalid(
        path, absl::StrCat("entry_points.txt: ", scripts.status().message()));
  }
  for (const ScriptEntryPoint& ep : *scripts) {
    if (ep.group == "console_scripts")
      m.console_scripts.emplace_back(ep.name, ep.target);
  }
  return m;
}

}  // namespace

absl::StatusOr<WheelMetadata> ParseWheelMetadata(const std::string& name,
                                                 absl::string_view bytes) {
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  archive_read_support_format_zip_seekable(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) !=
      ARCHIVE_OK) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not a wheel"));
  }
  return ReadOpenWheel(a.get(), name);
}

}  // namespace pbrx::common::wheel
