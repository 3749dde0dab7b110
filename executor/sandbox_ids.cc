#include "executor/sandbox_ids.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pbrx::executor {
namespace {

constexpr uint64_t kMinFirst = 65536;
constexpr uint64_t kMinCount = 65536;
constexpr uint64_t kIdLimit = 4294967295u;  // (uid_t)-1 is not an id

absl::Status CheckFile(const SandboxIds& ids, const std::string& path,
                       absl::string_view what) {
  std::ifstream in(path);
  if (!in) return absl::OkStatus();  // no such database here
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::vector<absl::string_view> f = absl::StrSplit(line, ':');
    uint64_t id = 0;
    if (f.size() < 3 || !absl::SimpleAtoi(f[2], &id)) continue;
    if (id >= ids.first && id < uint64_t{ids.first} + ids.count) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ":", number, ": ", what, " '", f[0], "' has id ", id,
          ", inside the sandbox id range ", ids.ToString(),
          " (--sandbox-id-range): pick a range no user or group uses"));
    }
  }
  return absl::OkStatus();
}

bool WriteProcFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

}  // namespace

std::string SandboxIds::ToString() const {
  return absl::StrCat(first, ":", count);
}

std::string SandboxIds::MapLine() const {
  return absl::StrCat("0 ", first, " ", count, "\n");
}

absl::StatusOr<SandboxIds> ParseSandboxIds(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  uint64_t first = 0, count = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &first) ||
      !absl::SimpleAtoi(parts[1], &count)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sandbox-id-range '", text, "' is not FIRST:COUNT"));
  }
  if (first < kMinFirst) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--sandbox-id-range starts at ", first, ", below the minimum ",
        kMinFirst, " (system and login ids live there)"));
  }
  if (count < kMinCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sandbox-id-range has ", count, " ids, fewer than the ",
                     kMinCount, " a Debian root filesystem uses"));
  }
  if (first + count > kIdLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sandbox-id-range ", first, ":", count,
                     " ends past the last id ", kIdLimit - 1));
  }
  SandboxIds ids;
  ids.first = static_cast<uint32_t>(first);
  ids.count = static_cast<uint32_t>(count);
  return ids;
}

absl::Status CheckSandboxIdsUnused(const SandboxIds& ids,
                                   const std::string& passwd,
                                   const std::string& group) {
  if (absl::Status s = CheckFile(ids, passwd, "user"); !s.ok()) return s;
  return CheckFile(ids, group, "group");
}

absl::Status WriteIdMaps(pid_t pid, const SandboxIds& ids) {
  std::string dir = absl::StrCat("/proc/", pid);
  if (!WriteProcFile(dir + "/uid_map", ids.MapLine()) ||
      !WriteProcFile(dir + "/gid_map", ids.MapLine())) {
    return absl::UnavailableError(
        absl::StrCat("cannot map the sandbox ids ", ids.ToString(),
                     " into a user namespace: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status CheckUserNamespaces(const SandboxIds& ids) {
  int up[2], down[2];
  if (pipe2(up, O_CLOEXEC) != 0) return absl::UnavailableError("pipe failed");
  if (pipe2(down, O_CLOEXEC) != 0) {
    close(up[0]);
    close(up[1]);
    return absl::UnavailableError("pipe failed");
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(up[0]);
    close(down[1]);
    char c = unshare(CLONE_NEWUSER) == 0 ? 'U' : 'E';
    if (write(up[1], &c, 1) != 1 || c != 'U') _exit(1);
    if (read(down[0], &c, 1) != 1) _exit(1);
    if (setresgid(0, 0, 0) != 0 || setgroups(0, nullptr) != 0 ||
        setresuid(0, 0, 0) != 0 || getuid() != 0)
      _exit(2);
    _exit(0);
  }
  close(up[1]);
  close(down[0]);
  absl::Status result = absl::OkStatus();
  if (pid < 0) {
    result = absl::UnavailableError("fork failed");
  } else {
    char c = 0;
    if (read(up[0], &c, 1) != 1 || c != 'U') {
      result = absl::UnavailableError(
          "cannot create a user namespace (is user.max_user_namespaces 0, or "
          "kernel.unprivileged_userns_clone off for this process?)");
    } else {
      result = WriteIdMaps(pid, ids);
      if (write(down[1], "G", 1) != 1 && result.ok())
        result = absl::UnavailableError("the user namespace check died");
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (result.ok() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      result = absl::UnavailableError(absl::StrCat(
          "cannot become root of a user namespace mapped to ", ids.ToString()));
    }
  }
  close(up[0]);
  close(down[1]);
  return result;
}

}  // namespace pbrx::executor
