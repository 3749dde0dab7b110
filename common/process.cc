#include "common/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace pbrx::common {

std::string ProcessResult::Describe() const {
  if (timed_out) return "timed out (killed)";
  if (signal != 0) return absl::StrCat("killed by signal ", signal);
  return absl::StrCat("exit ", exit_code);
}

absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const ProcessOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  for (const std::string& a : argv) {
    if (a.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("an argument of ", argv[0], " holds a NUL byte"));
    }
  }
  // Everything the child needs is prepared before fork (no allocation in
  // the child).
  std::vector<std::string> env_strings;
  std::string path_var;
  for (const auto& [k, v] : options.env) {
    env_strings.push_back(absl::StrCat(k, "=", v));
    if (k == "PATH") path_var = v;
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (std::string& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // argv[0] resolved against the given PATH only.
  std::vector<std::string> candidates;
  if (argv[0].find('/') != std::string::npos) {
    candidates.push_back(argv[0]);
  } else {
    for (absl::string_view dir : absl::StrSplit(path_var, ':')) {
      if (!dir.empty()) candidates.push_back(absl::StrCat(dir, "/", argv[0]));
    }
  }
  std::string program;
  for (const std::string& c : candidates) {
    if (access(c.c_str(), X_OK) == 0) {
      program = c;
      break;
    }
  }
  if (program.empty()) {
    return absl::NotFoundError(
        absl::StrCat(argv[0], ": not found or not executable",
                     argv[0].find('/') == std::string::npos
                         ? absl::StrCat(" in PATH=", path_var)
                         : std::string()));
  }
  int log_fd = options.log_to_stderr ? fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)
               : options.log_path.empty()
                   ? open("/dev/null", O_WRONLY | O_CLOEXEC)
                   : open(options.log_path.c_str(),
                          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", options.log_path, ": ", strerror(errno)));
  }
  int null_fd = open(
      options.stdin_path.empty() ? "/dev/null" : options.stdin_path.c_str(),
      O_RDONLY | O_CLOEXEC);
  // The child reports an exec failure through this pipe.
  int err_pipe[2];
  if (null_fd < 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return absl::InternalError("cannot set up the child's descriptors");
  }
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    close(null_fd);
    close(err_pipe[0]);
    close(err_pipe[1]);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    setpgid(0, 0);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    int keep = err_pipe[1];
    // Close every inherited descriptor but 0-2 and the (close-on-exec)
    // error pipe.
    if (keep > 3) syscall(SYS_close_range, 3, keep - 1, 0);
    syscall(SYS_close_range, keep + 1, ~0U, 0);
    if (cwd != nullptr && chdir(cwd) != 0) {
      int report[2] = {1, errno};
      (void)!write(keep, report, sizeof(report));
      _exit(127);
    }
    execve(program.c_str(), cargv.data(), envp.data());
    int report[2] = {2, errno};
    (void)!write(keep, report, sizeof(report));
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  close(err_pipe[1]);
  int report[2] = {0, 0};  // {1: chdir, 2: exec; errno}
  ssize_t n = read(err_pipe[0], report, sizeof(report));
  close(err_pipe[0]);
  if (n == sizeof(report)) {
    waitpid(pid, nullptr, 0);
    return absl::NotFoundError(
        report[0] == 1
            ? absl::StrCat("cannot change to ", options.cwd, " to run ",
                           argv[0], ": ", strerror(report[1]))
            : absl::StrCat("cannot run ", program, ": ", strerror(report[1])));
  }
  ProcessResult result;
  absl::Time deadline = absl::Now() + options.timeout;
  int status = 0;
  absl::Duration nap = absl::Milliseconds(1);
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
    }
    if (absl::Now() >= deadline) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.timed_out = true;
      break;
    }
    absl::SleepFor(nap);
    nap = std::min(nap * 2, absl::Milliseconds(100));
  }
  // Whatever the program left behind in its group goes with it.
  kill(-pid, SIGKILL);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::string ReadTail(const std::string& path, int lines) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return "";
  std::streamoff size = f.tellg();
  std::streamoff start = std::max<std::streamoff>(0, size - (64 << 10));
  f.seekg(start);
  std::string text(static_cast<size_t>(size - start), '\0');
  f.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (!text.empty() && text.back() == '\n') text.pop_back();
  size_t pos = text.size();
  for (int i = 0; i < lines && pos != std::string::npos && pos > 0; ++i) {
    pos = text.rfind('\n', pos - 1);
  }
  return pos == std::string::npos ? text : text.substr(pos + 1);
}

}  // namespace pbrx::common
