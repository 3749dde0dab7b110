// Certificates for tests and benchmarks, made by the openssl CLI (from an
// argv, never a shell): P-256 CAs and certificates for 127.0.0.1 usable as
// server and client certificates.
#ifndef PBRX_TESTS_TEST_PKI_H_
#define PBRX_TESTS_TEST_PKI_H_

#include <string>

#include "absl/status/status.h"

namespace pbrx::testing_util {

// DIR/NAME.pem and DIR/NAME.key: a self-signed CA.
absl::Status MakeCa(const std::string& dir, const std::string& name);

// DIR/NAME.pem and DIR/NAME.key signed by the CA DIR/CA.{pem,key}, for
// IP 127.0.0.1 and DNS localhost, server and client use.
absl::Status MakeCert(const std::string& dir, const std::string& ca,
                      const std::string& name);

}  // namespace pbrx::testing_util

#endif  // PBRX_TESTS_TEST_PKI_H_
