#include "common/bindep/package_query.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace pbrx::common::bindep {
namespace {

std::vector<std::string> Fields(absl::string_view line) {
  return absl::StrSplit(line, ' ', absl::SkipEmpty());
}

std::string FirstLine(absl::string_view text) {
  text = absl::StripLeadingAsciiWhitespace(text);
  return std::string(text.substr(0, text.find('\n')));
}

absl::Status Unexpected(absl::string_view tool, const std::string& package,
                        const CommandResult& r) {
  return absl::InternalError(
      absl::StrCat(tool, " gave an unexpected answer for ", package, " (exit ",
                   r.exit_code, "): ", absl::StripAsciiWhitespace(r.output)));
}

class QueryBase : public PackageQuery {
 public:
  explicit QueryBase(CommandRunner* runner) : runner_(runner) {}

 protected:
  CommandRunner* runner_;
};

class DpkgQuery : public QueryBase {
 public:
  using QueryBase::QueryBase;
  absl::StatusOr<std::optional<std::string>> InstalledVersion(
      const std::string& pkg) override {
    absl::StatusOr<CommandResult> r = runner_->Run(
        {"dpkg-query", "-W", "-f", "${Package} ${Status} ${Version}\n", pkg});
    if (!r.ok()) return r.status();
    if (r->exit_code != 0) {
      if (r->exit_code == 1 &&
          (absl::StartsWith(r->output, "dpkg-query: no packages found") ||
           absl::StartsWith(r->output, "No packages found matching"))) {
        return std::nullopt;
      }
      return Unexpected("dpkg-query", pkg, *r);
    }
    // name want-status error-status install-status version
    std::vector<std::string> f = Fields(FirstLine(r->output));
    if (f.size() < 4) return Unexpected("dpkg-query", pkg, *r);
    if (f[3] != "installed" || f.size() < 5) return std::nullopt;
    return f[4];
  }
};

class RpmQuery : public QueryBase {
 public:
  using QueryBase::QueryBase;
  absl::StatusOr<std::optional<std::string>> InstalledVersion(
      const std::string& pkg) override {
    absl::StatusOr<CommandResult> r = runner_->Run(
        {"rpm", "--qf", "%{NAME} %|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}\n",
         "--whatprovides", "-q", pkg});
    if (!r.ok()) return r.status();
    if (r->exit_code != 0) {
      std::string out(absl::StripAsciiWhitespace(r->output));
      if (r->exit_code == 1 && (absl::EndsWith(out, "is not installed") ||
                                absl::StartsWith(out, "no package provides"))) {
        return std::nullopt;
      }
      return Unexpected("rpm", pkg, *r);
    }
    std::vector<std::string> f = Fields(FirstLine(r->output));
    if (f.size() < 2) return Unexpected("rpm", pkg, *r);
    return f[1];
  }
};

class ApkQuery : public QueryBase {
 public:
  using QueryBase::QueryBase;
  absl::StatusOr<std::optional<std::string>> InstalledVersion(
      const std::string& pkg) override {
    absl::StatusOr<CommandResult> r =
        runner_->Run({"apk", "info", "-e", "-v", pkg});
    if (!r.ok()) return r.status();
    std::string line = FirstLine(r->output);
    if (r->exit_code != 0 || line.empty()) return std::nullopt;
    // NAME-VERSION-rN
    std::string prefix = absl::StrCat(pkg, "-");
    if (!absl::StartsWith(line, prefix)) return Unexpected("apk", pkg, *r);
    return line.substr(prefix.size());
  }
};

class PacmanQuery : public QueryBase {
 public:
  using QueryBase::QueryBase;
  absl::StatusOr<std::optional<std::string>> InstalledVersion(
      const std::string& pkg) override {
    absl::StatusOr<CommandResult> r = runner_->Run({"pacman", "-Q", pkg});
    if (!r.ok()) return r.status();
    if (r->exit_code != 0) {
      if (r->exit_code == 1 &&
          absl::EndsWith(absl::StripTrailingAsciiWhitespace(r->output),
                         "was not found")) {
        return std::nullopt;
      }
      return Unexpected("pacman", pkg, *r);
    }
    std::vector<std::string> f = Fields(FirstLine(r->output));
    if (f.size() < 2) return Unexpected("pacman", pkg, *r);
    return f[1];
  }
};

class EmergeQuery : public QueryBase {
 public:
  using QueryBase::QueryBase;
  absl::StatusOr<std::optional<std::string>> InstalledVersion(
      const std::string& pkg) override {
    absl::StatusOr<CommandResult> r =
        runner_->Run({"equery", "l", "--format='$version'", pkg});
    if (!r.ok()) return r.status();
    if (r->exit_code == 3) return std::nullopt;
    if (r->exit_code != 0) return Unexpected("equery", pkg, *r);
    std::vector<std::string> f = Fields(FirstLine(r->output));
    if (f.empty()) return Unexpected("equery", pkg, *r);
    std::string v = f[0];
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'')
      v = v.substr(1, v.size() - 2);
    return v;
  }
};

class BrewQuery : public QueryBase {
 public:
  using QueryBase::QueryBase;
  absl::StatusOr<std::optional<std::string>> InstalledVersion(
      const std::string& pkg) override {
    absl::StatusOr<CommandResult> r =
        runner_->Run({"brew", "list", "--versions", pkg});
    if (!r.ok()) return r.status();
    std::vector<std::string> f = Fields(FirstLine(r->output));
    if (r->exit_code != 0 || f.size() < 2) return std::nullopt;
    return f[1];
  }
};

}  // namespace

absl::StatusOr<CommandResult> SubprocessRunner::Run(
    const std::vector<std::string>& argv) {
  int fds[2];
  if (argv.empty() || pipe2(fds, O_CLOEXEC) != 0)
    return absl::InternalError("pipe failed");
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  CommandResult result;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) result.output.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 &&
      result.output.empty()) {
    return absl::UnavailableError(absl::StrCat("cannot run ", argv[0]));
  }
  result.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

absl::StatusOr<std::unique_ptr<PackageQuery>> MakePackageQuery(
    PackageManager pm, CommandRunner* runner) {
  switch (pm) {
    case PackageManager::kDpkg:
      return std::make_unique<DpkgQuery>(runner);
    case PackageManager::kRpm:
      return std::make_unique<RpmQuery>(runner);
    case PackageManager::kApk:
      return std::make_unique<ApkQuery>(runner);
    case PackageManager::kPacman:
      return std::make_unique<PacmanQuery>(runner);
    case PackageManager::kEmerge:
      return std::make_unique<EmergeQuery>(runner);
    case PackageManager::kBrew:
      return std::make_unique<BrewQuery>(runner);
    default:
      return absl::UnimplementedError(
          "no package manager is known for this platform; cannot check "
          "installed packages");
  }
}

}  // namespace pbrx::common::bindep
