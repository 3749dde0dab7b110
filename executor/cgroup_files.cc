#include "executor/cgroup_files.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace pbrx::executor {

std::string ReadSmall(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Writes a cgroup file. Files of a real cgroup filesystem always exist:
// `create` is only for tests whose stand-in is a plain directory.
bool WriteSmall(const std::string& path, const std::string& value,
                bool create) {
  int fd =
      open(path.c_str(), O_WRONLY | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
  if (fd < 0) return false;
  bool ok = write(fd, value.data(), value.size()) ==
            static_cast<ssize_t>(value.size());
  close(fd);
  return ok;
}

// "key value" lines (memory.oom_control, pids.events): the value of `key`.
int64_t StatValue(const std::string& text, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, key) && absl::ConsumePrefix(&line, " ")) {
      int64_t v = 0;
      if (absl::SimpleAtoi(line, &v)) return v;
    }
  }
  return 0;
}

std::vector<std::string> CgroupV1Candidates(absl::string_view own_path,
                                            absl::string_view controller,
                                            absl::string_view root,
                                            absl::string_view mountinfo) {
  std::string path(own_path);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::vector<std::string> out = {
      absl::StrCat(root, "/", controller, path == "/" ? "" : path)};
  // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - TYPE
  // SOURCE SUPER_OPTIONS. A container's cgroup mount shows only its own
  // subtree: ROOT is that subtree's path in the hierarchy.
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    std::vector<absl::string_view> f =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || f.end() - dash < 4) continue;
    if (dash[1] != "cgroup") continue;
    std::vector<absl::string_view> options = absl::StrSplit(dash[3], ',');
    if (std::find(options.begin(), options.end(), controller) ==
        options.end()) {
      continue;
    }
    absl::string_view mount_root = f[3];
    absl::string_view mount_point = f[4];
    // Only mounts under `root` (a test's or the configured hierarchy).
    if (!absl::StartsWith(mount_point, absl::StrCat(root, "/"))) continue;
    std::string rest;
    if (mount_root == "/") {
      rest = path == "/" ? "" : path;
    } else if (path == mount_root) {
      rest = "";
    } else if (absl::StartsWith(path, absl::StrCat(mount_root, "/"))) {
      rest = path.substr(mount_root.size());
    } else {
      continue;  // this process is not inside that mount's subtree
    }
    std::string dir = absl::StrCat(mount_point, rest);
    if (std::find(out.begin(), out.end(), dir) == out.end()) {
      out.push_back(dir);
    }
  }
  return out;
}

// The dir of this process's cgroup for `controller`, if we may create
// children in it.
std::string OwnCgroup(const std::string& root, const std::string& controller) {
  std::ifstream f("/proc/self/cgroup");
  const std::string mountinfo = ReadSmall("/proc/self/mountinfo");
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> parts =
        absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3) continue;
    for (absl::string_view c : absl::StrSplit(parts[1], ',')) {
      if (c != controller) continue;
      for (const std::string& dir :
           CgroupV1Candidates(parts[2], controller, root, mountinfo)) {
        std::string probe = absl::StrCat(dir, "/pbrx-probe-", getpid());
        if (mkdir(probe.c_str(), 0755) == 0) {
          rmdir(probe.c_str());
          return dir;
        }
      }
    }
  }
  return "";
}

bool IsCgroupFs(const std::string& dir) {
  struct statfs fs;
  return statfs(dir.c_str(), &fs) == 0 &&
         (fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC);
}

// This process's cgroup v2 directory when it delegates memory and pids to
// its children (or can be made to), else "".
std::string OwnCgroup2(const std::string& root, const std::string& listing,
                       bool plain_dir_for_tests) {
  struct statfs fs;
  if (!plain_dir_for_tests &&
      (statfs(root.c_str(), &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC)) {
    return "";  // not a cgroup2 mount: nothing to write into
  }
  const bool create = plain_dir_for_tests;
  std::ifstream f(listing);
  std::string line;
  while (std::getline(f, line)) {
    if (!absl::StartsWith(line, "0::")) continue;
    std::string dir = root + line.substr(3);
    while (!dir.empty() && dir.back() == '/') dir.pop_back();
    auto delegated = [&] {
      std::vector<std::string> on =
          absl::StrSplit(ReadSmall(dir + "/cgroup.subtree_control"),
                         absl::ByAnyChar(" \n"), absl::SkipEmpty());
      return std::count(on.begin(), on.end(), "memory") == 1 &&
             std::count(on.begin(), on.end(), "pids") == 1;
    };
    if (!delegated() &&
        !WriteSmall(dir + "/cgroup.subtree_control", "+memory +pids", create)) {
      // cgroup v2 lets a group hand controllers to children only while it
      // holds no process itself (as under systemd's Delegate=yes): this
      // process moves into a leaf of its own first.
      std::string leaf = dir + "/pbrx-main";
      if ((mkdir(leaf.c_str(), 0755) == 0 || errno == EEXIST) &&
          WriteSmall(leaf + "/cgroup.procs", absl::StrCat(getpid()), create)) {
        WriteSmall(dir + "/cgroup.subtree_control", "+memory +pids", create);
      }
    }
    if (!delegated()) return "";
    std::string probe = absl::StrCat(dir, "/pbrx-probe-", getpid());
    if (mkdir(probe.c_str(), 0755) != 0) return "";
    rmdir(probe.c_str());
    return dir;
  }
  return "";
}

// Kills whatever is left in a cgroup and removes it (bounded). Only in a
// real cgroup filesystem are the listed pids killed.
void RemoveCgroup(const std::string& dir) {
  if (dir.empty()) return;
  if (!IsCgroupFs(dir)) {
    rmdir(dir.c_str());
    return;
  }
  for (int i = 0; i < 200; ++i) {
    std::string procs = ReadSmall(dir + "/cgroup.procs");
    for (absl::string_view p : absl::StrSplit(procs, '\n', absl::SkipEmpty())) {
      int pid = 0;
      if (absl::SimpleAtoi(p, &pid) && pid > 0) kill(pid, SIGKILL);
    }
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

}  // namespace pbrx::executor
