// ProcessCredentialHelper: the docker credential-helper protocol. `get`
// runs `docker-credential-NAME get` (looked up in the given PATH, never
// through a shell) with the server on stdin, a 30 s limit and only PATH,
// HOME, XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS and DOCKER_CONFIG of the
// given environment; its answer {"ServerURL", "Username", "Secret"} is read
// from a file in a private (0700) temporary directory removed afterwards.
// A helper's output is never quoted in an error (it may hold the secret).
#ifndef PBRX_COMMON_REGISTRY_CREDENTIAL_HELPER_H_
#define PBRX_COMMON_REGISTRY_CREDENTIAL_HELPER_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/registry/credentials.h"

namespace pbrx::common::registry {

class ProcessCredentialHelper : public CredentialHelper {
 public:
  explicit ProcessCredentialHelper(std::map<std::string, std::string> env)
      : env_(std::move(env)) {}

  // nullopt when the helper says "credentials not found";
  // FAILED_PRECONDITION when the helper is not installed or answers with an
  // identity token (not supported); UNAVAILABLE when it fails otherwise;
  // INVALID_ARGUMENT when its answer is not the protocol's JSON.
  absl::StatusOr<std::optional<RegistryCredentials>> Get(
      const std::string& name, const std::string& server) override;

 private:
  std::map<std::string, std::string> env_;
};

}  // namespace pbrx::common::registry

#endif  // PBRX_COMMON_REGISTRY_CREDENTIAL_HELPER_H_
