#include "common/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/flag_parser.h"
#include "common/status_macros.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace pbrx::common {
namespace {

// PEM files are small; anything larger is not one.
constexpr int64_t kMaxPemBytes = 1 << 20;

absl::Status Bad(absl::string_view flag, const std::string& file,
                 absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(flag, " ", file, ": ", why));
}

absl::StatusOr<std::string> ReadPem(absl::string_view flag,
                                    const std::string& file) {
  return ReadFlagFile(std::string(flag), file, kMaxPemBytes);
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioDeleter> Bio(const std::string& pem) {
  return std::unique_ptr<BIO, BioDeleter>(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate of `pem`; INVALID_ARGUMENT when there is none.
absl::StatusOr<std::unique_ptr<X509, X509Deleter>> FirstCert(
    absl::string_view flag, const std::string& file, const std::string& pem) {
  auto bio = Bio(pem);
  std::unique_ptr<X509, X509Deleter> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (cert == nullptr) return Bad(flag, file, "holds no PEM certificate");
  return cert;
}

// Reads and checks a certificate chain and its key; returns both PEMs.
absl::StatusOr<std::pair<std::string, std::string>> ReadPair(
    const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  ASSIGN_OR_RETURN(std::string cert_pem, ReadPem("--tls-cert", cert_file));
  ASSIGN_OR_RETURN(std::string key_pem, ReadPem("--tls-key", key_file));
  ASSIGN_OR_RETURN(auto cert, FirstCert("--tls-cert", cert_file, cert_pem));
  auto bio = Bio(key_pem);
  std::unique_ptr<EVP_PKEY, KeyDeleter> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (key == nullptr)
    return Bad("--tls-key", key_file, "holds no unencrypted PEM private key");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Bad(
        "--tls-key", key_file,
        absl::StrCat("does not belong to the certificate in ", cert_file));
  }
  return std::make_pair(cert_pem, key_pem);
}

}  // namespace

absl::Status CheckServerTls(const ServerTls& tls) {
  if (!tls.enabled()) {
    if (!tls.key_file.empty())
      return absl::InvalidArgumentError("--tls-key needs --tls-cert");
    if (!tls.client_ca_file.empty())
      return absl::InvalidArgumentError(
          "--tls-client-ca needs --tls-cert and --tls-key");
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(ReadPair(tls.cert_file, tls.key_file).status());
  if (!tls.client_ca_file.empty()) {
    ASSIGN_OR_RETURN(std::string ca,
                     ReadPem("--tls-client-ca", tls.client_ca_file));
    RETURN_IF_ERROR(
        FirstCert("--tls-client-ca", tls.client_ca_file, ca).status());
  }
  return absl::OkStatus();
}

namespace {

// Replaces the whole content of a memfd (the provider compares modification
// times around its reads, so it never keeps a half-written pair).
absl::Status Rewrite(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = pwrite(fd, text.data() + done, text.size() - done,
                       static_cast<off_t>(done));
    if (n <= 0) return absl::InternalError("writing the served certificates");
    done += static_cast<size_t>(n);
  }
  if (ftruncate(fd, static_cast<off_t>(text.size())) != 0)
    return absl::InternalError("writing the served certificates");
  return absl::OkStatus();
}

std::string FdPath(int fd) { return absl::StrCat("/proc/self/fd/", fd); }

}  // namespace

absl::StatusOr<std::shared_ptr<ServedCertificates>> ServedCertificates::Create(
    const ServerTls& tls) {
  RETURN_IF_ERROR(CheckServerTls(tls));
  if (!tls.enabled())
    return absl::InvalidArgumentError("TLS needs --tls-cert and --tls-key");
  std::shared_ptr<ServedCertificates> s(new ServedCertificates(tls));
  s->key_fd_ = memfd_create("pbrx-tls-key", MFD_CLOEXEC);
  s->cert_fd_ = memfd_create("pbrx-tls-cert", MFD_CLOEXEC);
  if (!tls.client_ca_file.empty())
    s->ca_fd_ = memfd_create("pbrx-tls-client-ca", MFD_CLOEXEC);
  if (s->key_fd_ < 0 || s->cert_fd_ < 0 ||
      (!tls.client_ca_file.empty() && s->ca_fd_ < 0)) {
    return absl::InternalError(absl::StrCat(
        "cannot hold the served certificates in memory: ", strerror(errno)));
  }
  RETURN_IF_ERROR(s->Reload());
  {
    absl::MutexLock lock(&s->mu_);
    s->reloads_ = 0;  // the first read is not a reload
  }
  // Polled every second: a Reload() reaches new handshakes within that.
  s->provider_ =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          FdPath(s->key_fd_), FdPath(s->cert_fd_),
          tls.client_ca_file.empty() ? std::string() : FdPath(s->ca_fd_), 1);
  return s;
}

ServedCertificates::~ServedCertificates() {
  provider_.reset();
  for (int fd : {key_fd_, cert_fd_, ca_fd_})
    if (fd >= 0) close(fd);
}

absl::Status ServedCertificates::Reload() {
  ASSIGN_OR_RETURN(auto pair, ReadPair(tls_.cert_file, tls_.key_file));
  std::string ca;
  if (!tls_.client_ca_file.empty()) {
    ASSIGN_OR_RETURN(ca, ReadPem("--tls-client-ca", tls_.client_ca_file));
    RETURN_IF_ERROR(
        FirstCert("--tls-client-ca", tls_.client_ca_file, ca).status());
  }
  return Store(pair.second, pair.first, ca);
}

absl::Status ServedCertificates::Store(const std::string& key,
                                       const std::string& cert,
                                       const std::string& ca) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Rewrite(key_fd_, key));
  RETURN_IF_ERROR(Rewrite(cert_fd_, cert));
  if (ca_fd_ >= 0) RETURN_IF_ERROR(Rewrite(ca_fd_, ca));
  ++reloads_;
  return absl::OkStatus();
}

int64_t ServedCertificates::reloads() const {
  absl::MutexLock lock(&mu_);
  return reloads_;
}

absl::StatusOr<ServerCredentials> MakeServerCredentials(const ServerTls& tls) {
  RETURN_IF_ERROR(CheckServerTls(tls));
  ServerCredentials out;
  if (!tls.enabled()) {
    out.credentials = grpc::InsecureServerCredentials();
    return out;
  }
  ASSIGN_OR_RETURN(out.certificates, ServedCertificates::Create(tls));
  grpc::experimental::TlsServerCredentialsOptions options(
      out.certificates->provider());
  options.watch_identity_key_cert_pairs();
  if (tls.client_ca_file.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  out.credentials = grpc::experimental::TlsServerCredentials(options);
  return out;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeTlsCredentials(
    const ClientTls& tls) {
  grpc::SslCredentialsOptions o;
  if (!tls.ca_file.empty()) {
    ASSIGN_OR_RETURN(o.pem_root_certs, ReadPem("--tls-ca", tls.ca_file));
    RETURN_IF_ERROR(
        FirstCert("--tls-ca", tls.ca_file, o.pem_root_certs).status());
  }
  if (!tls.cert_file.empty() || !tls.key_file.empty()) {
    ASSIGN_OR_RETURN(auto pair, ReadPair(tls.cert_file, tls.key_file));
    o.pem_cert_chain = pair.first;
    o.pem_private_key = pair.second;
  }
  return grpc::SslCredentials(o);
}

}  // namespace pbrx::common
