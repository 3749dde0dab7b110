// RegistryAccess: the RegistryClient for each registry a run talks to, made
// once per host with what the user configured: plain HTTP only for loopback
// hosts (localhost, 127.0.0.0/8, [::1]) and hosts named by
// --insecure-registry, and for those only when no TLS answers at
// https://HOST/v2/ (as docker does); TLS with the system CAs plus
// --registry-ca;
// credentials from the container tools' auth files (credentials.h).
// Thread-safe.
#ifndef PBRX_COMMON_REGISTRY_REGISTRY_ACCESS_H_
#define PBRX_COMMON_REGISTRY_REGISTRY_ACCESS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/registry/http_transport.h"
#include "common/registry/image_pusher.h"
#include "common/registry/registry_client.h"

namespace pbrx::common::registry {

struct RegistryAccessOptions {
  std::vector<std::string> insecure_hosts;  // host[:port], plain HTTP allowed
  std::vector<std::string> auth_files;      // AuthFilePaths(environment)
  CredentialHelper* helpers = nullptr;      // credHelpers / credsStore
  RegistryClientOptions client;             // plain_http is set per host
};

// Whether `host` (host[:port]) is served over plain HTTP under `options`.
bool UsesPlainHttp(const std::string& host,
                   const std::vector<std::string>& insecure_hosts);

class RegistryAccess {
 public:
  RegistryAccess(HttpTransport* transport, RegistryAccessOptions options)
      : transport_(transport), options_(std::move(options)) {}

  // The client of `host` (an ImageReference's registry: docker.io is served
  // from registry-1.docker.io); INVALID_ARGUMENT naming the auth file when one
  // is unreadable.
  absl::StatusOr<RegistryClient*> Client(const std::string& host);
  // The blobs known per repository of `host` in this run.
  BlobLocations& Locations(const std::string& host);

 private:
  HttpTransport* transport_;
  RegistryAccessOptions options_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<RegistryClient>> clients_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<BlobLocations>> locations_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace pbrx::common::registry

#endif  // PBRX_COMMON_REGISTRY_REGISTRY_ACCESS_H_
