// `debian:SUITE` bases keyed by the archive's state: at build start the
// client fetches the InRelease files the base is built from
// (common/base/debian_base.h DebianReleaseSources) and hashes them; the
// digest becomes part of the debian-base step's key, so a point release or
// a security update rebuilds the base while an unchanged archive stays an
// all-hit build. The newest digest per suite and mirror is remembered in a
// file under the cache dir; when the mirror cannot be reached, the last
// known one is used, with a warning.
#ifndef PBRX_CLIENT_DEBIAN_RELEASE_H_
#define PBRX_CLIENT_DEBIAN_RELEASE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/registry/http_transport.h"

namespace pbrx::client {

struct DebianRelease {
  std::string digest;   // 64 lowercase hex; "" when unknown
  std::string warning;  // set when the mirror was not reached
};

// An InRelease file is at most this large.
inline constexpr int64_t kMaxInReleaseBytes = 16 << 20;

// What of an InRelease file says which packages a base gets: the SHA256
// entries of main/binary-amd64/Packages and main/binary-all/Packages,
// sorted (its Date, Valid-Until and signature change at every re-signing);
// the whole text when it lists neither.
std::string InReleaseState(absl::string_view inrelease);

// The digest: SHA-256 over one line per source, "URL SHA256\n" (of its
// InReleaseState) or, for an optional source the mirror does not have
// (HTTP 404), "URL absent\n".
// NOT_FOUND naming the URL when the suite itself is missing,
// FAILED_PRECONDITION for another 4xx answer. When the mirror cannot be
// reached (or answers 5xx): the last digest known for this suite and mirror,
// else none ("": the base is keyed by its suite alone, as when a client
// cannot reach the mirror its farm's executors use), with a warning.
absl::StatusOr<DebianRelease> ResolveDebianRelease(
    common::registry::HttpTransport& http, const std::string& suite,
    const std::string& mirror, const std::string& state_file);

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_DEBIAN_RELEASE_H_
