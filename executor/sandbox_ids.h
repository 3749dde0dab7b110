// SandboxIds: the host user and group ids a sandbox's ids map to. Every
// step runs in a user namespace of its own whose ids 0..count-1 are the
// host ids first..first+count-1, so a step's "root" (a package manager's
// steps run as root with a few capabilities) is an unprivileged host id:
// its capabilities apply only to files owned by ids of the range, never to
// the host's own files, and a process that escaped its mounts would be a
// nobody on the host. Layers are extracted with their owners shifted into
// the range (executor/layer_extract.h), a step's work dir is owned by the
// range's root, and layers written from a step's changes record root
// ownership as before (common/oci/layer.h), so images are unchanged.
#ifndef PBRX_EXECUTOR_SANDBOX_IDS_H_
#define PBRX_EXECUTOR_SANDBOX_IDS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pbrx::executor {

struct SandboxIds {
  // 2^31: above the ids distributions, LDAP and /etc/subuid ranges hand out.
  uint32_t first = 2147483648u;
  // Ids 0..65535 inside: every id a Debian package uses (nobody is 65534).
  uint32_t count = 65536;

  // The host id of id `inside` (< count).
  uid_t Host(uint32_t inside) const { return first + inside; }
  // "FIRST:COUNT", as the flag takes it.
  std::string ToString() const;
  // The line for /proc/PID/uid_map and gid_map.
  std::string MapLine() const;
  bool operator==(const SandboxIds& o) const {
    return first == o.first && count == o.count;
  }
};

// Parses "FIRST:COUNT" (--sandbox-id-range). INVALID_ARGUMENT naming the
// flag unless FIRST >= 65536 (clear of system and login ids), COUNT >= 65536
// and the range ends below 2^32 - 1 (the invalid id).
absl::StatusOr<SandboxIds> ParseSandboxIds(absl::string_view text);

// FAILED_PRECONDITION naming the entry if a user of `passwd` or a group of
// `group` (files in /etc/passwd format) has an id in the range: its files
// would be a sandbox's to change.
absl::Status CheckSandboxIdsUnused(const SandboxIds& ids,
                                   const std::string& passwd = "/etc/passwd",
                                   const std::string& group = "/etc/group");

// Writes the maps of the user namespace of `pid` (a child that unshared
// one and waits): ids 0..count-1 inside are first.. on the host.
absl::Status WriteIdMaps(pid_t pid, const SandboxIds& ids);

// Whether this process can create a user namespace and map `ids` into it
// (root, and user namespaces enabled). UNAVAILABLE with the reason if not.
absl::Status CheckUserNamespaces(const SandboxIds& ids);

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_SANDBOX_IDS_H_
