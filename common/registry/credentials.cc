#include "common/registry/credentials.h"

#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace pbrx::common::registry {
namespace {

using google::protobuf::Struct;

std::string Get(const std::map<std::string, std::string>& env,
                const std::string& k) {
  auto it = env.find(k);
  return it == env.end() ? "" : it->second;
}

// "https://host:port/v1/" -> "host:port".
std::string HostOfKey(absl::string_view key) {
  if (!absl::ConsumePrefix(&key, "https://"))
    absl::ConsumePrefix(&key, "http://");
  size_t slash = key.find('/');
  if (slash != absl::string_view::npos) key = key.substr(0, slash);
  return std::string(key);
}

std::string Field(const Struct& s, const std::string& k) {
  auto it = s.fields().find(k);
  return it == s.fields().end() ? "" : it->second.string_value();
}

bool Matches(const std::string& key, const std::string& registry) {
  const std::string host = HostOfKey(key);
  return host == registry ||
         (registry == "docker.io" &&
          (host == "index.docker.io" || host == "registry-1.docker.io"));
}

// The helper `name` of `file` asked for `registry`.
absl::StatusOr<std::optional<RegistryCredentials>> AskHelper(
    CredentialHelper* helpers, const std::string& file,
    const std::string& field, const std::string& name,
    const std::string& registry) {
  static const std::regex kName("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  if (!std::regex_match(name, kName)) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": ", field, " is not a credential helper name"));
  }
  if (helpers == nullptr) return std::optional<RegistryCredentials>();
  // Docker keys docker.io's credentials by its old index URL.
  return helpers->Get(
      name, registry == "docker.io" ? "https://index.docker.io/v1/" : registry);
}

}  // namespace

std::vector<std::string> AuthFilePaths(
    const std::map<std::string, std::string>& env) {
  std::vector<std::string> files;
  if (std::string f = Get(env, "REGISTRY_AUTH_FILE"); !f.empty())
    files.push_back(f);
  if (std::string d = Get(env, "XDG_RUNTIME_DIR"); !d.empty())
    files.push_back(d + "/containers/auth.json");
  if (std::string d = Get(env, "DOCKER_CONFIG"); !d.empty()) {
    files.push_back(d + "/config.json");
  } else if (std::string h = Get(env, "HOME"); !h.empty()) {
    files.push_back(h + "/.docker/config.json");
  }
  return files;
}

absl::StatusOr<std::optional<RegistryCredentials>> FindRegistryCredentials(
    const std::vector<std::string>& files, const std::string& registry,
    CredentialHelper* helpers) {
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().size() > (1 << 20)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": larger than 1 MiB"));
    }
    Struct doc;
    google::protobuf::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = true;
    if (!google::protobuf::util::JsonStringToMessage(ss.str(), &doc, opts)
             .ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": not valid JSON"));
    }
    auto per_host = doc.fields().find("credHelpers");
    if (per_host != doc.fields().end() && per_host->second.has_struct_value()) {
      for (const auto& [key, value] :
           per_host->second.struct_value().fields()) {
        if (!Matches(key, registry)) continue;
        ASSIGN_OR_RETURN(
            std::optional<RegistryCredentials> c,
            AskHelper(helpers, file, absl::StrCat("credHelpers.\"", key, "\""),
                      value.string_value(), registry));
        if (c.has_value()) return c;
      }
    }
    auto auths = doc.fields().find("auths");
    const bool has_auths =
        auths != doc.fields().end() && auths->second.has_struct_value();
    static const google::protobuf::Map<std::string, google::protobuf::Value>
        kNone;
    const auto& entries =
        has_auths ? auths->second.struct_value().fields() : kNone;
    for (const auto& [key, value] : entries) {
      if (!Matches(key, registry) || !value.has_struct_value()) continue;
      const Struct& entry = value.struct_value();
      RegistryCredentials c;
      if (std::string auth = Field(entry, "auth"); !auth.empty()) {
        std::string decoded;
        size_t colon;
        if (!absl::Base64Unescape(auth, &decoded) ||
            (colon = decoded.find(':')) == std::string::npos) {
          return absl::InvalidArgumentError(
              absl::StrCat(file, ": auths.\"", key,
                           "\".auth is not base64 of USER:PASSWORD"));
        }
        c.username = decoded.substr(0, colon);
        c.password = decoded.substr(colon + 1);
      } else {
        c.username = Field(entry, "username");
        c.password = Field(entry, "password");
      }
      if (c.username.empty() && c.password.empty()) continue;
      return std::optional<RegistryCredentials>(c);
    }
    if (std::string store = Field(doc, "credsStore"); !store.empty()) {
      ASSIGN_OR_RETURN(std::optional<RegistryCredentials> c,
                       AskHelper(helpers, file, "credsStore", store, registry));
      if (c.has_value()) return c;
    }
  }
  return std::optional<RegistryCredentials>();
}

}  // namespace pbrx::common::registry
