#include "common/authorizer.h"

#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/flag_parser.h"
#include "common/logging.h"
#include "common/request_log.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "grpc/grpc_security_constants.h"

namespace pbrx::common {
namespace {

constexpr int64_t kMaxFileBytes = 16 << 20;

const std::map<std::string, std::set<Permission>>& Roles() {
  static const auto* roles = new std::map<std::string, std::set<Permission>>{
      {"read", {Permission::kRead}},
      {"write",
       {Permission::kRead, Permission::kCasWrite, Permission::kAcWrite}},
      {"execute",
       {Permission::kRead, Permission::kCasWrite, Permission::kExecute}},
      {"executor",
       {Permission::kRead, Permission::kCasWrite, Permission::kWork}},
      {"admin",
       {Permission::kRead, Permission::kCasWrite, Permission::kAcWrite,
        Permission::kExecute, Permission::kWork}},
  };
  return *roles;
}

bool IsHex64(absl::string_view s) {
  return s.size() == 64 &&
         s.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

// An instance prefix: segments of [A-Za-z0-9._-], joined by '/'.
bool IsInstancePrefix(absl::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (absl::string_view seg : absl::StrSplit(s, '/')) {
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg) {
      if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-')
        return false;
    }
  }
  return true;
}

// The property `name` of the peer's TLS identity ("" if none).
std::string AuthProperty(const grpc::ServerContextBase& context,
                         const std::string& name) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return "";
  std::vector<grpc::string_ref> values = auth->FindPropertyValues(name);
  if (values.empty()) return "";
  return std::string(values[0].data(), values[0].size());
}

}  // namespace

absl::StatusOr<Authorizer> Authorizer::Parse(absl::string_view text,
                                             const std::string& file) {
  Authorizer a;
  a.enabled_ = true;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", line_no, ": ", why));
    };
    line = line.substr(0, line.find('#'));
    std::vector<absl::string_view> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (f.empty()) continue;
    if (f.size() < 2 || f.size() > 3)
      return bad("expected SHA256-OF-TOKEN ROLE [INSTANCE-PREFIX]");
    Principal p;
    p.role = std::string(f[1]);
    if (Roles().count(p.role) == 0) {
      return bad(absl::StrCat("unknown role '", absl::CHexEscape(p.role),
                              "' (read, write, execute, executor, admin)"));
    }
    if (f.size() == 3) {
      if (!IsInstancePrefix(f[2]))
        return bad(absl::StrCat("'", absl::CHexEscape(f[2]),
                                "' is not an instance name prefix"));
      p.instance_prefix = std::string(f[2]);
    }
    std::map<std::string, Principal>* table = &a.tokens_;
    std::string key(f[0]);
    if (absl::StartsWith(key, "cn:")) {
      key = key.substr(3);
      table = &a.common_names_;
      if (key.empty()) return bad("cn: needs a common name");
    } else if (!IsHex64(key)) {
      return bad(
          "the first field must be the SHA-256 of a token (64 lowercase "
          "hex digits; e.g. printf %s TOKEN | sha256sum) or cn:NAME");
    }
    if (!table->emplace(key, p).second)
      return bad(absl::StrCat("'", key, "' is listed twice"));
  }
  return a;
}

absl::StatusOr<Authorizer> Authorizer::Open(const std::string& file) {
  if (file.empty()) return Authorizer();
  ASSIGN_OR_RETURN(std::string text,
                   ReadFlagFile("--auth-tokens", file, kMaxFileBytes));
  return Parse(text, file);
}

absl::Status Authorizer::Check(const grpc::ServerContextBase& context,
                               Permission what, absl::string_view method,
                               absl::string_view instance_name) const {
  if (!enabled_) return absl::OkStatus();
  const Principal* who = nullptr;
  const auto& md = context.client_metadata();
  auto h = md.find("authorization");
  if (h != md.end()) {
    absl::string_view value(h->second.data(), h->second.size());
    if (!absl::StartsWith(value, "Bearer ")) {
      return absl::UnauthenticatedError(
          absl::StrCat(method,
                       ": the authorization header is not "
                       "\"Bearer TOKEN\""));
    }
    auto t = tokens_.find(Sha256::HexOf(value.substr(7)));
    if (t == tokens_.end()) {
      return absl::UnauthenticatedError(
          absl::StrCat(method, ": unknown token"));
    }
    who = &t->second;
  } else {
    std::string cn = AuthProperty(context, GRPC_X509_CN_PROPERTY_NAME);
    auto c = cn.empty() ? common_names_.end() : common_names_.find(cn);
    if (c != common_names_.end()) who = &c->second;
  }
  if (who == nullptr) {
    return absl::UnauthenticatedError(
        absl::StrCat(method,
                     ": no credentials (send \"authorization: Bearer "
                     "TOKEN\" or a client certificate this server knows)"));
  }
  return Allows(*who, what, method, instance_name);
}

absl::Status Authorizer::Allows(const Principal& who, Permission what,
                                absl::string_view method,
                                absl::string_view instance_name) {
  auto role = Roles().find(who.role);
  if (role == Roles().end() || role->second.count(what) == 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, " is not allowed for role '", who.role, "'"));
  }
  const std::string& p = who.instance_prefix;
  if (!p.empty() &&
      !(instance_name == p ||
        (absl::StartsWith(instance_name, p) &&
         instance_name.size() > p.size() && instance_name[p.size()] == '/'))) {
    return absl::PermissionDeniedError(absl::StrCat(
        method, " on instance '", instance_name,
        "' is not allowed: this credential is limited to '", p, "'"));
  }
  return absl::OkStatus();
}

absl::Status Authorize(const Authorizer* auth,
                       const grpc::ServerContextBase& context, Permission what,
                       absl::string_view method,
                       absl::string_view instance_name) {
  LogRequest(context, method, instance_name);
  if (auth == nullptr) return absl::OkStatus();
  absl::Status s = auth->Check(context, what, method, instance_name);
  if (!s.ok()) LogDebug("refused ", method, ": ", s.message());
  return s;
}

}  // namespace pbrx::common
