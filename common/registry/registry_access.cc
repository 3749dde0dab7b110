#include "common/registry/registry_access.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/registry/credentials.h"
#include "common/status_macros.h"

namespace pbrx::common::registry {

bool UsesPlainHttp(const std::string& host,
                   const std::vector<std::string>& insecure_hosts) {
  if (std::find(insecure_hosts.begin(), insecure_hosts.end(), host) !=
      insecure_hosts.end()) {
    return true;
  }
  std::string name = host;
  if (absl::StartsWith(name, "[")) {
    name = name.substr(0, name.find(']') + 1);
  } else {
    name = name.substr(0, name.find(':'));
  }
  if (name == "localhost" || name == "[::1]") return true;
  // 127.0.0.0/8, written as four decimal parts.
  std::vector<std::string> parts = absl::StrSplit(name, '.');
  if (parts.size() != 4 || parts[0] != "127") return false;
  for (const std::string& p : parts) {
    if (p.empty() || p.size() > 3 ||
        !std::all_of(p.begin(), p.end(), ::isdigit)) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<RegistryClient*> RegistryAccess::Client(
    const std::string& host) {
  absl::MutexLock lock(&mu_);
  auto it = clients_.find(host);
  if (it != clients_.end()) return it->second.get();
  ASSIGN_OR_RETURN(
      std::optional<RegistryCredentials> credentials,
      FindRegistryCredentials(options_.auth_files, host, options_.helpers));
  RegistryClientOptions o = options_.client;
  const std::string api_host =
      host == "docker.io" ? "registry-1.docker.io" : host;
  if (UsesPlainHttp(host, options_.insecure_hosts)) {
    // As docker does: HTTPS first; plain HTTP when no TLS answers there.
    HttpRequest probe;
    probe.method = "GET";
    probe.url = "https://" + api_host + "/v2/";
    probe.max_response_bytes = 64 << 10;
    o.plain_http = transport_->Send(probe).status().code() ==
                   absl::StatusCode::kUnavailable;
  }
  auto client =
      std::make_unique<RegistryClient>(transport_, api_host, credentials, o);
  RegistryClient* raw = client.get();
  clients_[host] = std::move(client);
  return raw;
}

BlobLocations& RegistryAccess::Locations(const std::string& host) {
  absl::MutexLock lock(&mu_);
  auto& l = locations_[host];
  if (!l) l = std::make_unique<BlobLocations>();
  return *l;
}

}  // namespace pbrx::common::registry
