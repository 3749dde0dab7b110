// How a daemon's gRPC endpoint is secured: the flags pbrx-cache and
// pbrx-coordinator share (--tls-cert, --tls-key, --tls-client-ca,
// --auth-tokens, --insecure-allow-unauthenticated), checked at start-up
// into the server's credentials and its Authorizer. A daemon that
// authenticates nobody (no --auth-tokens, no --tls-client-ca) listens only
// on loopback unless --insecure-allow-unauthenticated says otherwise.
#ifndef PBRX_COMMON_SERVER_SECURITY_H_
#define PBRX_COMMON_SERVER_SECURITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/authorizer.h"
#include "common/flag_parser.h"
#include "common/tls.h"
#include "grpcpp/security/server_credentials.h"

namespace pbrx::common {

struct ServerSecurity {
  ServerTls tls;
  std::string auth_tokens;  // --auth-tokens FILE ("" = none)
  bool allow_unauthenticated = false;
};

void AddServerSecurityFlags(FlagParser& flags, ServerSecurity* security);

struct SecuredEndpoint {
  std::unique_ptr<Authorizer> authorizer;  // never null; open without tokens
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // What TLS serves, reloaded on SIGHUP; null for plaintext.
  std::shared_ptr<ServedCertificates> certificates;
  // Who can reach it, for the daemon's start line ("TLS, mTLS, tokens from
  // F" or "plaintext, unauthenticated").
  std::string description;
};

// INVALID_ARGUMENT naming the flag for bad TLS files or a bad tokens file
// (file:line), and for a non-loopback `listen` that authenticates nobody
// without --insecure-allow-unauthenticated.
absl::StatusOr<SecuredEndpoint> SecureEndpoint(const std::string& listen,
                                               const ServerSecurity& security);

// Whether HOST:PORT names a loopback address (127.0.0.0/8, ::1, localhost).
bool IsLoopbackListen(const std::string& listen);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_SERVER_SECURITY_H_
