// Registry credentials where container tools keep them, read the way
// podman, skopeo and docker read them: the first of
//   $REGISTRY_AUTH_FILE,
//   $XDG_RUNTIME_DIR/containers/auth.json,
//   $DOCKER_CONFIG/config.json or ~/.docker/config.json
// whose "auths" holds the registry (keys "host[:port]", with or without
// an http(s):// scheme and a path; docker.io also as
// "https://index.docker.io/v1/"), as "auth" (base64 of USER:PASSWORD) or
// "username" + "password"; or a credential helper, as docker reads them:
// "credHelpers" {"HOST": "NAME"} first, then "auths", then "credsStore"
// "NAME" (docker-credential-NAME, run through a CredentialHelper).
//
// It takes the environment as a map (no getenv) and never logs or returns a
// secret in an error message.
#ifndef PBRX_COMMON_REGISTRY_CREDENTIALS_H_
#define PBRX_COMMON_REGISTRY_CREDENTIALS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pbrx::common::registry {

struct RegistryCredentials {
  std::string username;
  std::string password;
};

// Asks a docker credential helper for the credentials of a server (see
// credential_helper.h for the one that runs docker-credential-NAME).
class CredentialHelper {
 public:
  virtual ~CredentialHelper() = default;
  // nullopt when the helper has none for `server`.
  virtual absl::StatusOr<std::optional<RegistryCredentials>> Get(
      const std::string& name, const std::string& server) = 0;
};

// The auth files to read, in order, for that environment.
std::vector<std::string> AuthFilePaths(
    const std::map<std::string, std::string>& env);

// The credentials for `registry` (host[:port]) from the first file that has
// them; nullopt when none does. INVALID_ARGUMENT naming the file for a file
// that exists but is not valid JSON or holds an undecodable "auth" (the
// value is never quoted).
// Helpers named in a file are asked through `helpers` (nullptr: they are
// skipped); a helper name that is not [A-Za-z0-9][A-Za-z0-9_.-]{0,63} is
// INVALID_ARGUMENT naming the file.
absl::StatusOr<std::optional<RegistryCredentials>> FindRegistryCredentials(
    const std::vector<std::string>& files, const std::string& registry,
    CredentialHelper* helpers = nullptr);

}  // namespace pbrx::common::registry

#endif  // PBRX_COMMON_REGISTRY_CREDENTIALS_H_
