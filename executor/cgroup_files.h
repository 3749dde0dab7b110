// The cgroup files a sandbox uses for its limits: finding this process's
// own cgroup (v1 per controller, or a v2 group that delegates memory and
// pids), reading and writing small control files, reading "key value"
// counters, and removing a sandbox's group with whatever is left in it.
#ifndef PBRX_EXECUTOR_CGROUP_FILES_H_
#define PBRX_EXECUTOR_CGROUP_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace pbrx::executor {

// The whole content of a small file ("" if it cannot be read).
std::string ReadSmall(const std::string& path);

// Writes a cgroup file. Files of a real cgroup filesystem always exist:
// `create` is only for tests whose stand-in is a plain directory.
// Async-signal-safe (open/write/close): usable between fork and exec.
bool WriteSmall(const std::string& path, const std::string& value,
                bool create = false);

// "key value" lines (memory.events, pids.events): the value of `key`, 0
// when absent.
int64_t StatValue(const std::string& text, absl::string_view key);

// Where this process's cgroup v1 for `controller` (its path `own_path` in
// /proc/self/cgroup) may be under `root`, best first: ROOT/CONTROLLER/PATH
// (a host), then, from `mountinfo` (/proc/self/mountinfo's text), each
// cgroup mount of `controller` under `root` that shows only a subtree
// holding PATH (a container without a cgroup namespace: the mount's root is
// the container's own cgroup, e.g. /libpod_parent/libpod-ID mounted at
// /sys/fs/cgroup/memory).
std::vector<std::string> CgroupV1Candidates(absl::string_view own_path,
                                            absl::string_view controller,
                                            absl::string_view root,
                                            absl::string_view mountinfo);

// The dir of this process's cgroup v1 for `controller` under `root`, if we
// may create children in it (the first of CgroupV1Candidates that lets us);
// "" otherwise.
std::string OwnCgroup(const std::string& root, const std::string& controller);

// Whether `dir` is on a cgroup (v1 or v2) filesystem.
bool IsCgroupFs(const std::string& dir);

// This process's cgroup v2 directory (from `listing`, /proc/self/cgroup)
// when it delegates memory and pids to its children (or can be made to,
// moving this process into a leaf of its own), else "".
std::string OwnCgroup2(const std::string& root, const std::string& listing,
                       bool plain_dir_for_tests);

// Kills whatever is left in a cgroup and removes it (bounded). Only in a
// real cgroup filesystem are the listed pids killed.
void RemoveCgroup(const std::string& dir);

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_CGROUP_FILES_H_
