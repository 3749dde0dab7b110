// Authorizer: who may call what on pbrx-cache and pbrx-coordinator. The
// --auth-tokens file names principals, one per line:
//   SHA256-OF-TOKEN ROLE [INSTANCE-PREFIX]   a bearer token (never the token)
//   cn:COMMON-NAME ROLE [INSTANCE-PREFIX]    an mTLS client certificate
// '#' starts a comment. Roles and what they may do:
//   read      CAS and Action Cache reads, Capabilities, FarmStatus
//   write     read + CAS and Action Cache writes (a CI that fills a cache)
//   execute   read + CAS writes + Execute + the Build API (results of
//             executed actions are recorded by the coordinator only)
//   executor  read + CAS writes + the Worker API
//   admin     everything
// A principal with an instance prefix may use only instance names equal to
// it or below it ("team-a" allows "team-a" and "team-a/x", not "team-ab").
// Every RPC handler calls Check first: UNAUTHENTICATED when the call names
// no known principal, PERMISSION_DENIED naming the method and the role.
// Without a file (Open("")) everyone may do everything.
#ifndef PBRX_COMMON_AUTHORIZER_H_
#define PBRX_COMMON_AUTHORIZER_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

namespace pbrx::common {

enum class Permission { kRead, kCasWrite, kAcWrite, kExecute, kWork };

struct Principal {
  std::string role;
  std::string instance_prefix;  // "" = every instance
};

class Authorizer {
 public:
  // Everyone may do everything.
  Authorizer() = default;

  // The principals of `text` (`file` names it in errors: "FILE:LINE: ...").
  static absl::StatusOr<Authorizer> Parse(absl::string_view text,
                                          const std::string& file);
  // Reads `file` ("" = everyone may do everything). INVALID_ARGUMENT naming
  // the file and line.
  static absl::StatusOr<Authorizer> Open(const std::string& file);

  bool enabled() const { return enabled_; }

  // Whether the call in `context` may do `what` in `method` (e.g.
  // "ActionCache.UpdateActionResult") on `instance_name`.
  absl::Status Check(const grpc::ServerContextBase& context, Permission what,
                     absl::string_view method,
                     absl::string_view instance_name = "") const;

  // The same for an already identified principal (tests, and the check's
  // second half).
  static absl::Status Allows(const Principal& who, Permission what,
                             absl::string_view method,
                             absl::string_view instance_name);

 private:
  bool enabled_ = false;
  std::map<std::string, Principal> tokens_;  // by SHA-256 hex of the token
  std::map<std::string, Principal> common_names_;
};

// Check through `auth`; nullptr: everyone may do everything.
absl::Status Authorize(const Authorizer* auth,
                       const grpc::ServerContextBase& context, Permission what,
                       absl::string_view method,
                       absl::string_view instance_name = "");

}  // namespace pbrx::common

#endif  // PBRX_COMMON_AUTHORIZER_H_
