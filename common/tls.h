// TLS for every daemon and client: the certificate files are read and
// checked where they enter (a flag), so a wrong file is a start-up error
// naming the flag, never a handshake failure later.
//   Servers: --tls-cert/--tls-key serve TLS; --tls-client-ca also requires
//     and verifies a client certificate (mTLS). The files are read at start
//     and again on ServedCertificates::Reload() (the daemons call it on
//     SIGHUP): new handshakes present the new certificate within a second,
//     streams already open go on. Files replaced on disk are not picked up
//     before that: an operator moves renewed files into place, then sends
//     SIGHUP, and a bad file is refused then, keeping the old ones.
//   Clients: grpcs:// URLs; --tls-ca the CA bundle to verify the server
//     (default: the system's), --tls-cert/--tls-key a client certificate.
#ifndef PBRX_COMMON_TLS_H_
#define PBRX_COMMON_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"

namespace pbrx::common {

struct ServerTls {
  std::string cert_file;       // PEM chain; empty: plaintext
  std::string key_file;        // PEM private key of the first certificate
  std::string client_ca_file;  // PEM CA bundle; set: mTLS required

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

// The certificates a TLS server presents. gRPC's provider watches
// in-memory copies (memfds, polled every second) that change only in
// Create() and Reload(): never a file on disk, so what is served changes
// exactly when the operator says so.
class ServedCertificates {
 public:
  // Reads and checks the files (as CheckServerTls).
  static absl::StatusOr<std::shared_ptr<ServedCertificates>> Create(
      const ServerTls& tls);
  ~ServedCertificates();
  ServedCertificates(const ServedCertificates&) = delete;
  ServedCertificates& operator=(const ServedCertificates&) = delete;

  // Reads and checks the files again; serves them from the next handshake
  // (within a second). On a bad file nothing changes and the error names
  // the flag. Thread-safe.
  absl::Status Reload();

  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider()
      const {
    return provider_;
  }
  int64_t reloads() const;

 private:
  explicit ServedCertificates(ServerTls tls) : tls_(std::move(tls)) {}
  absl::Status Store(const std::string& key, const std::string& cert,
                     const std::string& ca);

  const ServerTls tls_;
  mutable absl::Mutex mu_;
  int key_fd_ = -1, cert_fd_ = -1, ca_fd_ = -1;
  int64_t reloads_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
};

struct ServerCredentials {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Null for plaintext.
  std::shared_ptr<ServedCertificates> certificates;
};

// Insecure credentials when TLS is off; else TLS (and mTLS) credentials
// over ServedCertificates. Checks as CheckServerTls.
absl::StatusOr<ServerCredentials> MakeServerCredentials(const ServerTls& tls);

// TLS channel credentials from the files (read now). INVALID_ARGUMENT
// naming --tls-ca / --tls-cert / --tls-key as above.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeTlsCredentials(
    const ClientTls& tls);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_TLS_H_
