#include "coordinator/pipeline/base_config.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/json_struct.h"
#include "common/status_macros.h"

namespace pbrx::coordinator {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr size_t kMaxEntries = 1024;

bool Printable(const std::string& s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

absl::Status Bad(const std::string& what, const std::string& field,
                 const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": config field ", field, " ", why));
}

// A string field ("" when absent); a wrong type or a control character is
// an error.
absl::StatusOr<std::string> StringField(const Struct& s, const std::string& key,
                                        const std::string& what,
                                        const std::string& field) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || it->second.has_null_value()) return "";
  if (!it->second.has_string_value())
    return Bad(what, field, "is not a string");
  if (!Printable(it->second.string_value()))
    return Bad(what, field, "holds a control character");
  return it->second.string_value();
}

absl::StatusOr<std::vector<std::string>> StringList(const Struct& s,
                                                    const std::string& key,
                                                    const std::string& what) {
  std::vector<std::string> out;
  auto it = s.fields().find(key);
  if (it == s.fields().end() || it->second.has_null_value()) return out;
  if (!it->second.has_list_value())
    return Bad(what, "config." + key, "is not a list of strings");
  if (it->second.list_value().values_size() > static_cast<int>(kMaxEntries)) {
    return Bad(what, "config." + key,
               absl::StrCat("has more than ", kMaxEntries, " entries"));
  }
  for (const Value& v : it->second.list_value().values()) {
    if (!v.has_string_value())
      return Bad(what, "config." + key, "is not a list of strings");
    if (!Printable(v.string_value()))
      return Bad(what, "config." + key, "holds a control character");
    out.push_back(v.string_value());
  }
  return out;
}

std::string EnvName(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

}  // namespace

absl::StatusOr<common::oci::ImageConfig> ParseBaseConfig(
    const std::string& config_json, const std::string& what) {
  ASSIGN_OR_RETURN(Struct top,
                   common::ParseJsonStruct(config_json, what + " config"));
  common::oci::ImageConfig c;
  c.env.clear();
  ASSIGN_OR_RETURN(c.architecture,
                   StringField(top, "architecture", what, "architecture"));
  ASSIGN_OR_RETURN(c.os, StringField(top, "os", what, "os"));
  ASSIGN_OR_RETURN(c.variant, StringField(top, "variant", what, "variant"));
  if (c.architecture.empty() || c.os.empty())
    return Bad(what, "architecture/os", "is missing");
  const Struct* config = common::Obj(top, "config");
  if (config == nullptr) return c;
  ASSIGN_OR_RETURN(c.env, StringList(*config, "Env", what));
  for (const std::string& e : c.env) {
    if (!absl::StrContains(e, '=') || e[0] == '=')
      return Bad(what, "config.Env", "has an entry without NAME=: '" + e + "'");
  }
  ASSIGN_OR_RETURN(c.entrypoint, StringList(*config, "Entrypoint", what));
  ASSIGN_OR_RETURN(c.user, StringField(*config, "User", what, "config.User"));
  ASSIGN_OR_RETURN(c.working_dir, StringField(*config, "WorkingDir", what,
                                              "config.WorkingDir"));
  if (const Struct* labels = common::Obj(*config, "Labels");
      labels != nullptr) {
    if (labels->fields_size() > static_cast<int>(kMaxEntries)) {
      return Bad(what, "config.Labels",
                 absl::StrCat("has more than ", kMaxEntries, " entries"));
    }
    for (const auto& [k, unused] : labels->fields()) {
      if (!Printable(k)) return Bad(what, "config.Labels", "has a bad key");
      ASSIGN_OR_RETURN(c.labels[k],
                       StringField(*labels, k, what, "config.Labels." + k));
    }
  }
  return c;
}

common::oci::ImageConfig InheritBaseConfig(
    const common::oci::ImageConfig& base,
    const common::oci::ImageConfig& image) {
  common::oci::ImageConfig out = image;
  out.architecture = base.architecture;
  out.os = base.os;
  out.variant = base.variant;
  out.user = base.user;
  out.entrypoint = base.entrypoint;
  if (!base.working_dir.empty()) out.working_dir = base.working_dir;
  out.env = base.env;
  for (const std::string& ours : image.env) {
    const std::string name = EnvName(ours);
    auto it =
        std::find_if(out.env.begin(), out.env.end(),
                     [&](const std::string& e) { return EnvName(e) == name; });
    if (it == out.env.end()) {
      out.env.push_back(ours);
    } else if (name == "PATH") {
      std::vector<std::string> dirs =
          absl::StrSplit(it->substr(5), ':', absl::SkipEmpty());
      for (absl::string_view d :
           absl::StrSplit(ours.substr(5), ':', absl::SkipEmpty())) {
        if (std::find(dirs.begin(), dirs.end(), d) == dirs.end())
          dirs.emplace_back(d);
      }
      *it = "PATH=" + absl::StrJoin(dirs, ":");
    }  // else the base's value stands (e.g. its LANG)
  }
  out.labels = base.labels;
  for (const auto& [k, v] : image.labels) out.labels[k] = v;
  return out;
}

}  // namespace pbrx::coordinator
