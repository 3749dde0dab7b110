#include "tests/test_pki.h"

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/process.h"

namespace pbrx::testing_util {
namespace {

absl::Status Openssl(const std::vector<std::string>& args,
                     const std::string& dir) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  common::ProcessOptions o;
  o.env = {{"PATH", "/usr/bin:/bin"}};
  o.log_path = dir + "/openssl.log";
  o.timeout = absl::Minutes(1);
  absl::StatusOr<common::ProcessResult> r = common::RunProcess(argv, o);
  if (!r.ok()) return r.status();
  if (!r->ok()) {
    return absl::InternalError(absl::StrCat(
        "openssl ", args[0], ": ", r->Describe(), " (see ", o.log_path, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MakeCa(const std::string& dir, const std::string& name) {
  return Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                  dir + "/" + name + ".key", "-out", dir + "/" + name + ".pem",
                  "-days", "2", "-subj", "/CN=" + name},
                 dir);
}

absl::Status MakeCert(const std::string& dir, const std::string& ca,
                      const std::string& name) {
  const std::string base = dir + "/" + name;
  absl::Status s =
      Openssl({"req", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
               base + ".key", "-out", base + ".csr", "-subj", "/CN=" + name},
              dir);
  if (!s.ok()) return s;
  std::ofstream(base + ".ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                  "extendedKeyUsage=serverAuth,clientAuth\n";
  return Openssl(
      {"x509", "-req", "-in", base + ".csr", "-CA", dir + "/" + ca + ".pem",
       "-CAkey", dir + "/" + ca + ".key", "-CAcreateserial", "-out",
       base + ".pem", "-days", "2", "-extfile", base + ".ext"},
      dir);
}

}  // namespace pbrx::testing_util
