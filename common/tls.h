// TLS for every daemon and client: the certificate files are read and
// checked where they enter (a flag), so a wrong file is a start-up error
// naming the flag, never a handshake failure later.
//   Servers: --tls-cert/--tls-key serve TLS; --tls-client-ca also requires
//     and verifies a client certificate (mTLS). The files are watched:
//     replaced files (e.g. renewed certificates moved into place) are
//     picked up within `reload` without dropping a stream.
//   Clients: grpcs:// URLs; --tls-ca the CA bundle to verify the server
//     (default: the system's), --tls-cert/--tls-key a client certificate.
#ifndef PBRX_COMMON_TLS_H_
#define PBRX_COMMON_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace pbrx::common {

struct ServerTls {
  std::string cert_file;       // PEM chain; empty: plaintext
  std::string key_file;        // PEM private key of the first certificate
  std::string client_ca_file;  // PEM CA bundle; set: mTLS required
  absl::Duration reload = absl::Seconds(10);

  bool enabled() const { return !cert_file.empty(); }
};

struct ClientTls {
  std::string ca_file;    // empty: the system's CA bundle
  std::string cert_file;  // with key_file: the client certificate (mTLS)
  std::string key_file;

  bool any() const {
    return !ca_file.empty() || !cert_file.empty() || !key_file.empty();
  }
};

// INVALID_ARGUMENT naming the flag (--tls-cert, --tls-key, --tls-client-ca)
// when a file is missing, unreadable or not PEM of the right kind, when the
// key does not belong to the certificate, or when only one of cert/key or
// a client CA without a certificate is given.
absl::Status CheckServerTls(const ServerTls& tls);

// Insecure credentials when TLS is off; else TLS (and mTLS) credentials
// over the watched files. Checks as CheckServerTls.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTls& tls);

// TLS channel credentials from the files (read now). INVALID_ARGUMENT
// naming --tls-ca / --tls-cert / --tls-key as above.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeTlsCredentials(
    const ClientTls& tls);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_TLS_H_
