// Credentials for package index hosts, kept out of everything content-
// addressed. A user gives them the way pip takes them
// (https://USER:PASSWORD@HOST/simple); they are split off the URL where it
// enters (CLI, Build API), travel beside the step (ExecuteOptions, a
// lease), never inside an Action or Command, and reach the step's sandbox
// as a netrc file made from bytes (never on the executor's disk). Logs of
// a step that had them are redacted before they are stored.
#ifndef PBRX_COMMON_CREDENTIALS_H_
#define PBRX_COMMON_CREDENTIALS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pbrx::common {

struct HostCredential {
  std::string host;  // HOST, without a port (as netrc's "machine" matches)
  std::string username;
  std::string password;
  bool operator==(const HostCredential& o) const {
    return host == o.host && username == o.username && password == o.password;
  }
};

// Per request: at most this many credentials, each field at most
// kMaxCredentialFieldBytes.
inline constexpr size_t kMaxCredentials = 16;
inline constexpr size_t kMaxCredentialFieldBytes = 1024;

struct SplitUrl {
  std::string url;  // the URL without its userinfo
  std::optional<HostCredential> credential;
};

// "scheme://USER[:PASSWORD]@HOST[:PORT]/..." -> the URL without
// "USER:PASSWORD@" and the percent-decoded credential (none without
// userinfo). INVALID_ARGUMENT naming `field` (never echoing the password)
// for bad percent-encoding or a credential a netrc cannot hold.
absl::StatusOr<SplitUrl> SplitUrlCredentials(absl::string_view field,
                                             absl::string_view url);

// Host: letters, digits, '.', '-' (at most 253); username and password:
// printable ASCII other than space, '"', '\\' and '#' (what a netrc line
// can hold unquoted), at most kMaxCredentialFieldBytes; the username not
// empty. INVALID_ARGUMENT naming `field` and the host, never the password.
absl::Status ValidateCredential(absl::string_view field,
                                const HostCredential& credential);

// The host of "scheme://[userinfo@]HOST[:PORT]/...", lower-cased; "" when
// there is none.
std::string UrlHost(absl::string_view url);

// `url` without a user[:password]@ part (for reports and SBOMs).
std::string WithoutUserinfo(absl::string_view url);

// Those of `credentials` whose host is `url`'s.
std::vector<HostCredential> CredentialsForUrl(
    absl::string_view url, const std::vector<HostCredential>& credentials);

// "machine HOST login USER password PASSWORD\n" per credential.
std::string RenderNetrc(const std::vector<HostCredential>& credentials);

// `text` with every password (as given and percent-encoded) replaced by
// "****".
std::string RedactSecrets(absl::string_view text,
                          const std::vector<HostCredential>& credentials);

// RedactSecrets over a file of any size, in place (streamed in 1 MiB
// pieces, a password across two pieces included; a new file renamed over
// the old one). No-op without passwords.
absl::Status RedactSecretsInFile(
    const std::string& path, const std::vector<HostCredential>& credentials);

// A name for the identities (host and user, never the password) behind a
// set of credentials, "" for none: the sha256 of their sorted "HOST USER"
// lines. Steps that use credentials carry it in their Command, so two
// identities never share a result by key.
std::string CredentialsId(const std::vector<HostCredential>& credentials);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_CREDENTIALS_H_
