#include "common/server_security.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/daemon.h"
#include "common/status_macros.h"

namespace pbrx::common {

void AddServerSecurityFlags(FlagParser& flags, ServerSecurity* security) {
  flags.AddString("tls-cert", &security->tls.cert_file,
                  "serve TLS with this PEM certificate chain (with --tls-key)");
  flags.AddString("tls-key", &security->tls.key_file,
                  "the PEM private key of --tls-cert");
  flags.AddString("tls-client-ca", &security->tls.client_ca_file,
                  "require client certificates signed by this PEM CA (mTLS)");
  flags.AddString("auth-tokens", &security->auth_tokens,
                  "principals file: 'SHA256-OF-TOKEN ROLE [INSTANCE-PREFIX]' "
                  "or 'cn:NAME ROLE [PREFIX]' per line");
  flags.AddBool("insecure-allow-unauthenticated",
                &security->allow_unauthenticated,
                "listen beyond loopback without --auth-tokens or "
                "--tls-client-ca (anyone who reaches it may read and write)");
}

bool IsLoopbackListen(const std::string& listen) {
  const std::string host = HostOf(listen);
  return absl::StartsWith(host, "127.") || host == "localhost" ||
         host == "[::1]" || host == "::1";
}

absl::StatusOr<SecuredEndpoint> SecureEndpoint(const std::string& listen,
                                               const ServerSecurity& security) {
  SecuredEndpoint out;
  ASSIGN_OR_RETURN(ServerCredentials credentials,
                   MakeServerCredentials(security.tls));
  out.credentials = std::move(credentials.credentials);
  out.certificates = std::move(credentials.certificates);
  ASSIGN_OR_RETURN(Authorizer a, Authorizer::Open(security.auth_tokens));
  out.authorizer = std::make_unique<Authorizer>(std::move(a));
  const bool mtls = !security.tls.client_ca_file.empty();
  const bool authenticated = out.authorizer->enabled() || mtls;
  if (!authenticated && !IsLoopbackListen(listen) &&
      !security.allow_unauthenticated) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen ", listen,
                     " is not loopback and nothing authenticates callers: give "
                     "--auth-tokens or --tls-client-ca, or "
                     "--insecure-allow-unauthenticated on a trusted network"));
  }
  out.description =
      security.tls.enabled() ? (mtls ? "mTLS" : "TLS") : "plaintext";
  if (out.authorizer->enabled()) {
    absl::StrAppend(&out.description, ", tokens from ", security.auth_tokens);
  } else if (!authenticated) {
    absl::StrAppend(&out.description, ", UNAUTHENTICATED");
  }
  return out;
}

}  // namespace pbrx::common
