#include "common/registry/credential_helper.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/process.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace pbrx::common::registry {
namespace {

constexpr int64_t kMaxAnswer = 64 << 10;

// A private directory removed with its files when this goes out of scope.
class PrivateDir {
 public:
  PrivateDir() {
    char tmpl[] = "/tmp/pbrx-credentials-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) path_ = tmpl;  // mode 0700
  }
  ~PrivateDir() {
    if (path_.empty()) return;
    std::remove((path_ + "/in").c_str());
    std::remove((path_ + "/out").c_str());
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

absl::StatusOr<std::optional<RegistryCredentials>> ProcessCredentialHelper::Get(
    const std::string& name, const std::string& server) {
  const std::string program = "docker-credential-" + name;
  PrivateDir dir;
  if (dir.path().empty()) {
    return absl::InternalError("cannot create a private temporary directory");
  }
  std::ofstream(dir.path() + "/in") << server;
  ProcessOptions o;
  for (const char* k : {"PATH", "HOME", "XDG_RUNTIME_DIR",
                        "DBUS_SESSION_BUS_ADDRESS", "DOCKER_CONFIG"}) {
    auto it = env_.find(k);
    if (it != env_.end()) o.env[k] = it->second;
  }
  o.stdin_path = dir.path() + "/in";
  o.log_path = dir.path() + "/out";
  o.timeout = absl::Seconds(30);
  absl::StatusOr<ProcessResult> r = RunProcess({program, "get"}, o);
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kNotFound) {
      return absl::FailedPreconditionError(
          absl::StrCat("credential helper ", program, " is not installed (",
                       server, " names it)"));
    }
    return r.status();
  }
  std::ifstream in(o.log_path, std::ios::binary);
  std::string answer(kMaxAnswer + 1, '\0');
  in.read(answer.data(), answer.size());
  answer.resize(in.gcount());
  if (!r->ok()) {
    if (absl::StrContains(answer, "credentials not found"))
      return std::optional<RegistryCredentials>();
    return absl::UnavailableError(absl::StrCat("credential helper ", program,
                                               " failed for ", server, ": ",
                                               r->Describe()));
  }
  google::protobuf::Struct doc;
  if (static_cast<int64_t>(answer.size()) > kMaxAnswer ||
      !google::protobuf::util::JsonStringToMessage(answer, &doc).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("credential helper ", program, " answered for ", server,
                     " with something other than its JSON"));
  }
  auto field = [&](const char* k) {
    auto it = doc.fields().find(k);
    return it == doc.fields().end() ? std::string() : it->second.string_value();
  };
  RegistryCredentials c{field("Username"), field("Secret")};
  if (c.username == "<token>") {
    return absl::FailedPreconditionError(absl::StrCat(
        "credential helper ", program, " gave an identity token for ", server,
        " (not supported; log in with a password or access token)"));
  }
  if (c.username.empty() && c.password.empty())
    return std::optional<RegistryCredentials>();
  return std::optional<RegistryCredentials>(c);
}

}  // namespace pbrx::common::registry
