#include "common/flag_config.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/toml.h"

namespace pbrx::common {

absl::Status ApplyConfigFile(FlagParser& flags, const std::string& file,
                             const std::string& section) {
  constexpr int64_t kMaxConfigBytes = 1 << 20;
  absl::StatusOr<std::string> text =
      ReadFlagFile("--config", file, kMaxConfigBytes);
  if (!text.ok()) return text.status();
  absl::StatusOr<toml::table> doc = ParseToml(*text, file);
  if (!doc.ok()) return doc.status();
  const toml::table* table = &*doc;
  if (!section.empty()) {
    for (const auto& [key, node] : *doc) {
      if (!node.is_table()) {
        return absl::InvalidArgumentError(absl::StrCat(
            file, ":", node.source().begin.line, ": ", std::string(key.str()),
            ": settings go in a [command] table, e.g. [", section, "]"));
      }
    }
    table = (*doc)[section].as_table();
    if (table == nullptr) return absl::OkStatus();
  }
  for (const auto& [key, node] : *table) {
    const std::string where = absl::StrCat(file, ":", node.source().begin.line);
    std::string name(key.str());
    std::replace(name.begin(), name.end(), '_', '-');
    if (name == "config") {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": a config file cannot name another"));
    }
    std::vector<std::string> values;
    auto scalar = [&](const toml::node& n, std::string* out) {
      if (auto v = n.value_exact<std::string>()) {
        *out = *v;
      } else if (auto i = n.value_exact<int64_t>()) {
        *out = absl::StrCat(*i);
      } else if (auto b = n.value_exact<bool>()) {
        *out = *b ? "true" : "false";
      } else {
        return false;
      }
      return true;
    };
    std::string one;
    if (const toml::array* list = node.as_array()) {
      for (const toml::node& e : *list) {
        if (!scalar(e, &one)) {
          return absl::InvalidArgumentError(absl::StrCat(
              where, ": ", name, ": list items must be strings or integers"));
        }
        values.push_back(one);
      }
    } else if (scalar(node, &one)) {
      values.push_back(one);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", name,
                       ": expected a string, integer, boolean or list (flags "
                       "are top-level keys, not tables)"));
    }
    if (absl::Status s = flags.SetFromConfig(name, values, where); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

}  // namespace pbrx::common
