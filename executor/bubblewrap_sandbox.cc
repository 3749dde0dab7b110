#include "executor/bubblewrap_sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/beneath.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "executor/cgroup_files.h"
#include "executor/seccomp_filter.h"

namespace pbrx::executor {
namespace {

// Descriptor numbers bwrap is given (the child moves them there).
constexpr int kSeccompFd = 3;  // the seccomp program
constexpr int kInfoFd = 4;     // bwrap writes {"child-pid": N} (egress)
constexpr int kBlockFd = 5;    // bwrap waits for a byte here (egress)
constexpr int kResolvFd = 6;   // the sandbox's /etc/resolv.conf (egress)
constexpr char kEgressResolvConf[] = "nameserver 10.0.2.3\n";
// The child's report to the parent until bwrap runs: 'U' once it is in its
// user namespace (the parent then writes the id maps and answers 'G'), or
// "E<why>" when a step of its setup failed. Closed by the exec.
constexpr int kReportFd = 7;
// Where the child, in a mount namespace of its own, binds the host
// directories bwrap mounts (rootfs, work dir, extra binds): bwrap resolves
// sources with the sandbox's ids, which may not traverse the host path
// (a work root of mode 0700, /root), so it gets them on a fresh tmpfs.
constexpr char kBindRoot[] = "/tmp";

// The pid bwrap reports on its info descriptor ({"child-pid": N, ...}), or
// -1 when it closes it first or says nothing within `timeout`.
pid_t ReadChildPid(int fd, absl::Duration timeout) {
  std::string text;
  absl::Time end = absl::Now() + timeout;
  while (text.find('}') == std::string::npos) {
    int left = static_cast<int>(absl::ToInt64Milliseconds(end - absl::Now()));
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) != 1) return -1;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return -1;
    text.append(buf, n);
    if (text.size() > 4096) return -1;
  }
  size_t key = text.find("\"child-pid\"");
  if (key == std::string::npos) return -1;
  size_t digits = text.find_first_of("0123456789", key);
  if (digits == std::string::npos) return -1;
  pid_t pid = 0;
  for (size_t i = digits; i < text.size() && absl::ascii_isdigit(text[i]); ++i)
    pid = pid * 10 + (text[i] - '0');
  return pid;
}

bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Data files: plain names directly under /tmp, at most 4, 32 KiB in all.
absl::Status CheckDataFiles(const std::map<std::string, std::string>& files) {
  size_t total = 0;
  for (const auto& [inside, content] : files) {
    absl::string_view name = inside;
    if (!absl::ConsumePrefix(&name, "/tmp/") || name.empty() ||
        name.find('/') != absl::string_view::npos || name == "." ||
        name == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "data file ", inside, ": must be a plain name under /tmp"));
    }
    total += content.size();
  }
  if (files.size() > 4 || total > (32 << 10)) {
    return absl::InvalidArgumentError(
        "data files: at most 4 and 32 KiB in all");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<BubblewrapSandbox>> BubblewrapSandbox::Create(
    const BubblewrapOptions& options) {
  if (access(options.bwrap.c_str(), X_OK) != 0) {
    return absl::UnavailableError(absl::StrCat("bubblewrap not found at ",
                                               options.bwrap,
                                               " (apt install bubblewrap)"));
  }
  if (absl::Status u = CheckUserNamespaces(options.ids); !u.ok()) return u;
  std::unique_ptr<BubblewrapSandbox> s(new BubblewrapSandbox(options));
  s->memory_cgroup_ = OwnCgroup(options.cgroup_root, "memory");
  s->pids_cgroup_ = OwnCgroup(options.cgroup_root, "pids");
  if (s->memory_cgroup_.empty() || s->pids_cgroup_.empty()) {
    s->memory_cgroup_.clear();
    s->pids_cgroup_.clear();
    s->cgroup2_ = OwnCgroup2(options.cgroup2_root, options.proc_self_cgroup,
                             options.cgroup2_plain_dir_for_tests);
  }
  return s;
}

std::vector<std::string> BubblewrapSandbox::BuildArgs(const SandboxSpec& spec,
                                                      const StagedBinds& binds,
                                                      bool seccomp,
                                                      bool egress) const {
  std::vector<std::string> a = {options_.bwrap, "--die-with-parent",
                                "--new-session"};
  // The user namespace is the child's own (mapped to options_.ids) before
  // bwrap starts: bwrap runs as its root and unshares the rest.
  a.insert(a.end(), {"--unshare-pid", "--unshare-ipc", "--unshare-uts",
                     "--unshare-cgroup-try"});
  if (!spec.network || egress) a.push_back("--unshare-net");
  if (egress) {
    // bwrap says the sandbox's pid on kInfoFd and waits on kBlockFd until
    // its network is ready.
    a.insert(a.end(), {"--info-fd", absl::StrCat(kInfoFd), "--block-fd",
                       absl::StrCat(kBlockFd)});
  }
  if (!spec.rootfs.empty()) {
    a.insert(a.end(),
             {spec.writable_root ? "--bind" : "--ro-bind", binds.rootfs, "/"});
  } else {
    a.insert(a.end(), {"--ro-bind", "/usr", "/usr"});
    for (const char* p :
         {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
      struct stat st;
      if (lstat(p, &st) != 0) continue;
      if (S_ISLNK(st.st_mode)) {
        char target[256];
        ssize_t n = readlink(p, target, sizeof(target) - 1);
        if (n > 0) a.insert(a.end(), {"--symlink", std::string(target, n), p});
      } else if (S_ISDIR(st.st_mode)) {
        a.insert(a.end(), {"--ro-bind", p, p});
      }
    }
    // Directories bwrap makes for a bind's parents are 0700: a step that
    // drops to another user (apt to _apt) could not read /etc/resolv.conf.
    for (const char* d : {"/etc", "/etc/ssl"})
      a.insert(a.end(), {"--perms", "0755", "--dir", d});
    for (const char* p :
         {"/etc/ld.so.cache", "/etc/alternatives", "/etc/passwd", "/etc/group",
          "/etc/nsswitch.conf", "/etc/localtime", "/etc/ssl/certs"}) {
      a.insert(a.end(), {"--ro-bind-try", p, p});
    }
  }
  if (egress) {
    // Readable by every user (apt fetches as _apt).
    a.insert(a.end(), {"--perms", "0644", "--ro-bind-data",
                       absl::StrCat(kResolvFd), "/etc/resolv.conf"});
  } else if (spec.network) {
    a.insert(a.end(),
             {"--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"});
  }
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev", "--perms", "1777"});
  if (spec.tmp_bytes > 0)
    a.insert(a.end(), {"--size", absl::StrCat(spec.tmp_bytes)});
  a.insert(a.end(), {"--tmpfs", "/tmp"});
  for (const auto& [staged, inside] : binds.ro_binds)
    a.insert(a.end(), {"--ro-bind", staged, inside});
  for (const auto& [staged, inside] : binds.data_files)
    a.insert(a.end(), {"--ro-bind", staged, inside});
  if (!spec.work_dir.empty()) {
    a.insert(a.end(), {"--bind", binds.work_dir, "/work", "--chdir",
                       spec.working_directory.empty()
                           ? "/work"
                           : "/work/" + spec.working_directory});
  } else {
    a.insert(a.end(), {"--chdir", "/"});
  }
  a.insert(a.end(), {"--cap-drop", "ALL"});
  if (spec.package_manager) {
    // dpkg and apt, as root of the user namespace, need to own files and drop
    // to _apt; nothing else.
    for (const char* cap :
         {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
          "CAP_SETUID", "CAP_SETGID", "CAP_KILL"}) {
      a.insert(a.end(), {"--cap-add", cap});
    }
  }
  if (spec.chroot) a.insert(a.end(), {"--cap-add", "CAP_SYS_CHROOT"});
  a.push_back("--clearenv");
  for (const auto& [k, v] : spec.env) a.insert(a.end(), {"--setenv", k, v});
  if (seccomp) a.insert(a.end(), {"--seccomp", absl::StrCat(kSeccompFd)});
  a.push_back("--");
  a.insert(a.end(), spec.argv.begin(), spec.argv.end());
  return a;
}

absl::StatusOr<SandboxResult> BubblewrapSandbox::Run(const SandboxSpec& spec) {
  if (spec.argv.empty())
    return absl::InvalidArgumentError("sandbox command is empty");
  if (!spec.work_dir.empty() && !IsDir(spec.work_dir)) {
    return absl::InvalidArgumentError(
        absl::StrCat("work dir ", spec.work_dir, " does not exist"));
  }
  if (!spec.rootfs.empty() && !IsDir(spec.rootfs)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rootfs ", spec.rootfs, " does not exist"));
  }
  // The sandbox's root owns what it may write: the work dir, and the root
  // directory of a writable rootfs (its overlay's upper directory).
  if (!spec.work_dir.empty())
    RETURN_IF_ERROR(common::ChownTree(spec.work_dir, options_.ids.Host(0)));
  if (spec.writable_root && lchown(spec.rootfs.c_str(), options_.ids.Host(0),
                                   options_.ids.Host(0)) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot give ", spec.rootfs,
                     " to the sandbox's root: ", std::strerror(errno)));
  }
  int seccomp_fd = options_.seccomp ? SeccompProgramFd() : -1;
  if (options_.seccomp && seccomp_fd < 0) {
    return absl::UnavailableError("cannot build the seccomp filter");
  }
  const bool egress = spec.network && options_.isolate_egress;
  // Limits: one child cgroup per run.
  std::string id = absl::StrCat("pbrx-", getpid(), "-", next_id_.fetch_add(1));
  std::string mem_cg, pids_cg;
  const bool create = !cgroup2_.empty() && options_.cgroup2_plain_dir_for_tests;
  if (!cgroup2_.empty() && (spec.memory_bytes > 0 || spec.max_pids > 0)) {
    // v2: one child cgroup holds both limits; no swap to escape into.
    std::string cg = cgroup2_ + "/" + id;
    bool ok = mkdir(cg.c_str(), 0755) == 0;
    if (ok && spec.memory_bytes > 0) {
      ok = WriteSmall(cg + "/memory.max", absl::StrCat(spec.memory_bytes),
                      create);
      WriteSmall(cg + "/memory.swap.max", "0", create);
    }
    if (ok && spec.max_pids > 0)
      ok = WriteSmall(cg + "/pids.max", absl::StrCat(spec.max_pids), create);
    if (!ok) {
      RemoveCgroup(cg);
      if (seccomp_fd >= 0) close(seccomp_fd);
      return absl::UnavailableError(absl::StrCat("cannot set up cgroup ", cg));
    }
    if (spec.memory_bytes > 0) mem_cg = cg;
    if (spec.max_pids > 0) pids_cg = cg;
  }
  if (spec.memory_bytes > 0 && !memory_cgroup_.empty()) {
    mem_cg = memory_cgroup_ + "/" + id;
    if (mkdir(mem_cg.c_str(), 0755) != 0 ||
        !WriteSmall(mem_cg + "/memory.limit_in_bytes",
                    absl::StrCat(spec.memory_bytes))) {
      RemoveCgroup(mem_cg);
      if (seccomp_fd >= 0) close(seccomp_fd);
      return absl::UnavailableError(
          absl::StrCat("cannot set up memory cgroup ", mem_cg));
    }
    // No escape into swap.
    WriteSmall(mem_cg + "/memory.memsw.limit_in_bytes",
               absl::StrCat(spec.memory_bytes));
  }
  if (spec.max_pids > 0 && !pids_cgroup_.empty()) {
    pids_cg = pids_cgroup_ + "/" + id;
    if (mkdir(pids_cg.c_str(), 0755) != 0 ||
        !WriteSmall(pids_cg + "/pids.max", absl::StrCat(spec.max_pids))) {
      RemoveCgroup(mem_cg);
      RemoveCgroup(pids_cg);
      if (seccomp_fd >= 0) close(seccomp_fd);
      return absl::UnavailableError(
          absl::StrCat("cannot set up pids cgroup ", pids_cg));
    }
  }
  // Egress: bwrap reports the sandbox's pid on one pipe and waits on
  // another until its network is ready; its resolv.conf comes from a third.
  int info[2] = {-1, -1}, block[2] = {-1, -1}, resolv[2] = {-1, -1};
  auto close_pipes = [&] {
    for (int* p : {info, block, resolv}) {
      for (int i : {0, 1}) {
        if (p[i] >= 0) close(p[i]);
        p[i] = -1;
      }
    }
  };
  if (egress) {
    if (pipe2(info, O_CLOEXEC) != 0 || pipe2(block, O_CLOEXEC) != 0 ||
        pipe2(resolv, O_CLOEXEC) != 0 ||
        write(resolv[1], kEgressResolvConf, sizeof(kEgressResolvConf) - 1) !=
            static_cast<ssize_t>(sizeof(kEgressResolvConf) - 1)) {
      close_pipes();
      RemoveCgroup(mem_cg);
      RemoveCgroup(pids_cg);
      if (seccomp_fd >= 0) close(seccomp_fd);
      return absl::UnavailableError("cannot create the sandbox's pipes");
    }
    close(resolv[1]);
    resolv[1] = -1;
  }
  // The host paths bwrap mounts, bound by the child (still host root, so
  // it may traverse their paths) onto kBindRoot.
  struct HostBind {
    std::string host;
    std::string staged;  // kBindRoot/NAME
    bool dir = true;
  };
  std::vector<HostBind> host_binds;
  // Data files the child writes on its bind tmpfs: staged path, content.
  std::vector<std::pair<std::string, const std::string*>> data_files;
  StagedBinds staged;
  auto add_bind = [&](const std::string& host,
                      absl::string_view name) -> absl::StatusOr<std::string> {
    HostBind b;
    struct stat st;
    if (stat(host.c_str(), &st) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot bind ", host, ": ", std::strerror(errno)));
    }
    b.host = host;
    b.dir = S_ISDIR(st.st_mode);
    b.staged = absl::StrCat(kBindRoot, "/", name);
    host_binds.push_back(std::move(b));
    return host_binds.back().staged;
  };
  absl::Status bound = [&]() -> absl::Status {
    if (!spec.rootfs.empty()) {
      ASSIGN_OR_RETURN(staged.rootfs, add_bind(spec.rootfs, "root"));
    }
    if (!spec.work_dir.empty()) {
      ASSIGN_OR_RETURN(staged.work_dir, add_bind(spec.work_dir, "work"));
    }
    for (const auto& [host, inside] : spec.ro_binds) {
      ASSIGN_OR_RETURN(
          std::string b,
          add_bind(host, absl::StrCat("bind-", staged.ro_binds.size())));
      staged.ro_binds.emplace_back(b, inside);
    }
    RETURN_IF_ERROR(CheckDataFiles(spec.data_files));
    for (const auto& [inside, content] : spec.data_files) {
      std::string b =
          absl::StrCat(kBindRoot, "/data-", staged.data_files.size());
      staged.data_files.emplace_back(b, inside);
      data_files.emplace_back(std::move(b), &content);
    }
    return absl::OkStatus();
  }();
  int report[2] = {-1, -1}, go[2] = {-1, -1};
  auto close_sync = [&] {
    for (int* p : {report, go}) {
      for (int i : {0, 1}) {
        if (p[i] >= 0) close(p[i]);
        p[i] = -1;
      }
    }
  };
  if (bound.ok() &&
      (pipe2(report, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0))
    bound = absl::UnavailableError("cannot create the sandbox's pipes");
  if (!bound.ok()) {
    close_sync();
    close_pipes();
    RemoveCgroup(mem_cg);
    RemoveCgroup(pids_cg);
    if (seccomp_fd >= 0) close(seccomp_fd);
    return bound;
  }
  std::vector<std::string> args =
      BuildArgs(spec, staged, seccomp_fd >= 0, egress);
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  absl::Time start = absl::Now();
  pid_t pid = fork();
  if (pid < 0) {
    close_sync();
    close_pipes();
    RemoveCgroup(mem_cg);
    RemoveCgroup(pids_cg);
    if (seccomp_fd >= 0) close(seccomp_fd);
    return absl::UnavailableError("fork failed");
  }
  if (pid == 0) {
    setpgid(0, 0);
    std::string self = std::to_string(getpid());
    if (!mem_cg.empty()) WriteSmall(mem_cg + "/cgroup.procs", self, create);
    if (!pids_cg.empty() && pids_cg != mem_cg)
      WriteSmall(pids_cg + "/cgroup.procs", self, create);
    if (spec.memory_bytes > 0 && mem_cg.empty()) {
      rlimit rl{static_cast<rlim_t>(spec.memory_bytes),
                static_cast<rlim_t>(spec.memory_bytes)};
      setrlimit(RLIMIT_AS, &rl);
    }
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, STDIN_FILENO);
    auto redirect = [&](const std::string& path, int fd) {
      int out = path.empty()
                    ? devnull
                    : open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out < 0 ? devnull : out, fd);
    };
    redirect(spec.stdout_path, STDOUT_FILENO);
    redirect(spec.stderr_path, STDERR_FILENO);
    close(report[0]);
    close(go[1]);
    auto fail = [&](const char* what) {
      char msg[512];
      int n = snprintf(msg, sizeof(msg), "E%s: %s", what, strerror(errno));
      if (n > 0 && write(report[1], msg, std::min<size_t>(n, sizeof(msg) - 1)))
        _exit(126);
      _exit(126);
    };
    // The host directories, bound where the sandbox's ids can reach them,
    // in a mount namespace of this process's own (nothing propagates out).
    if (unshare(CLONE_NEWNS) != 0) fail("unshare(CLONE_NEWNS)");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      fail("making the mounts private");
    if (!host_binds.empty() || !data_files.empty()) {
      // Opened before the tmpfs hides kBindRoot, bound from the descriptor
      // after (a bind's source must be a mount of this namespace).
      int fds[64];
      if (host_binds.size() > 64) fail("too many binds");
      for (size_t i = 0; i < host_binds.size(); ++i) {
        fds[i] = open(host_binds[i].host.c_str(), O_PATH | O_CLOEXEC);
        if (fds[i] < 0) fail(host_binds[i].host.c_str());
      }
      if (mount("tmpfs", kBindRoot, "tmpfs", MS_NOSUID | MS_NODEV,
                "mode=0755,size=128k") != 0)
        fail("mounting a tmpfs for the binds");
      // Data files live only in this tmpfs (memory of this namespace).
      for (const auto& [path, content] : data_files) {
        int fd =
            open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        if (fd < 0) fail("creating a data file");
        size_t done = 0;
        while (done < content->size()) {
          ssize_t n = write(fd, content->data() + done, content->size() - done);
          if (n <= 0) fail("writing a data file");
          done += static_cast<size_t>(n);
        }
        close(fd);
      }
      for (size_t i = 0; i < host_binds.size(); ++i) {
        const HostBind& b = host_binds[i];
        char source[64];
        snprintf(source, sizeof(source), "/proc/self/fd/%d", fds[i]);
        if (b.dir ? mkdir(b.staged.c_str(), 0755) != 0
                  : mknod(b.staged.c_str(), S_IFREG | 0644, 0) != 0)
          fail("creating a mount point");
        if (mount(source, b.staged.c_str(), nullptr, MS_BIND | MS_REC,
                  nullptr) != 0)
          fail(b.host.c_str());
        close(fds[i]);
      }
    }
    // A user namespace whose ids the parent maps to options_.ids; this
    // process becomes its root, so bwrap and the command never hold a host
    // id of their own.
    if (unshare(CLONE_NEWUSER) != 0) fail("unshare(CLONE_NEWUSER)");
    char sync = 'U';
    if (write(report[1], &sync, 1) != 1) _exit(126);
    if (read(go[0], &sync, 1) != 1 || sync != 'G') _exit(126);
    if (setresgid(0, 0, 0) != 0 || setgroups(0, nullptr) != 0 ||
        setresuid(0, 0, 0) != 0)
      fail("becoming root of the user namespace");
    // bwrap's descriptors at their fixed numbers (moved out of the way
    // first); nothing else of this process reaches the sandbox: every other
    // descriptor is closed, whatever other threads had open without
    // O_CLOEXEC.
    std::vector<std::pair<int, int>> moves;
    if (seccomp_fd >= 0) moves.emplace_back(seccomp_fd, kSeccompFd);
    if (egress) {
      moves.emplace_back(info[1], kInfoFd);
      moves.emplace_back(block[0], kBlockFd);
      moves.emplace_back(resolv[0], kResolvFd);
    }
    moves.emplace_back(report[1], kReportFd);
    for (auto& m : moves) m.first = fcntl(m.first, F_DUPFD, 32);
    for (const auto& m : moves) dup2(m.first, m.second);
    for (int fd = 3; fd <= kReportFd; ++fd) {
      if (std::none_of(moves.begin(), moves.end(),
                       [fd](const auto& m) { return m.second == fd; }))
        close(fd);
    }
    syscall(SYS_close_range, kReportFd + 1, ~0U, 0);
    // The report descriptor closes with the exec; bwrap never sees it.
    fcntl(kReportFd, F_SETFD, FD_CLOEXEC);
    report[1] = kReportFd;
    execv(argv[0], argv.data());
    fail("starting bwrap");
  }
  close(report[1]);
  close(go[0]);
  report[1] = go[0] = -1;
  // The child's user namespace gets its ids; then it runs bwrap or says why
  // it could not.
  absl::Status setup = [&]() -> absl::Status {
    char c = 0;
    if (read(report[0], &c, 1) == 1 && c == 'U') {
      RETURN_IF_ERROR(WriteIdMaps(pid, options_.ids));
      if (write(go[1], "G", 1) != 1)
        return absl::UnavailableError("the sandbox process died");
      c = 0;
    }
    std::string why;
    char buf[512];
    ssize_t n;
    if (c != 0) why.push_back(c);
    while ((n = read(report[0], buf, sizeof(buf))) > 0 && why.size() < 4096)
      why.append(buf, n);
    if (why.empty()) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat("cannot set up the sandbox: ",
                                               absl::StripPrefix(why, "E")));
  }();
  close_sync();
  // A sandbox that cannot start is killed and cleaned up.
  auto abandon = [&](absl::Status why) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close_pipes();
    RemoveCgroup(mem_cg);
    if (pids_cg != mem_cg) RemoveCgroup(pids_cg);
    if (seccomp_fd >= 0) close(seccomp_fd);
    return why;
  };
  if (!setup.ok()) return abandon(setup);
  // Egress: the sandbox's network before its command runs.
  std::unique_ptr<EgressNetwork> network;
  if (egress) {
    close(info[1]);
    close(block[0]);
    close(resolv[0]);
    info[1] = block[0] = resolv[0] = -1;
    pid_t inner = ReadChildPid(info[0], absl::Seconds(30));
    absl::Status attached =
        inner <= 0 ? absl::UnavailableError(
                         "bwrap reported no sandbox process (see its stderr)")
                   : absl::OkStatus();
    std::string scratch = spec.scratch_dir;
    std::string temp_scratch;
    if (attached.ok() && scratch.empty()) {
      char tmpl[] = "/tmp/pbrx-egress-XXXXXX";
      if (mkdtemp(tmpl) != nullptr) scratch = temp_scratch = tmpl;
    }
    if (attached.ok()) {
      absl::StatusOr<std::unique_ptr<EgressNetwork>> n =
          EgressNetwork::Attach(inner, scratch, options_.egress);
      if (n.ok()) {
        network = std::move(*n);
      } else {
        attached = n.status();
      }
    }
    if (!temp_scratch.empty()) {
      unlink((temp_scratch + "/slirp4netns.log").c_str());
      unlink((temp_scratch + "/egress-routes").c_str());
      unlink((temp_scratch + "/egress-routes.log").c_str());
      rmdir(temp_scratch.c_str());
    }
    if (!attached.ok()) {
      // bwrap says on the command's stderr why its sandbox went away.
      std::string said =
          spec.stderr_path.empty() ? "" : common::ReadTail(spec.stderr_path, 5);
      if (!said.empty()) {
        attached = absl::Status(
            attached.code(),
            absl::StrCat(attached.message(), "\nthe sandbox said: ", said));
      }
      return abandon(attached);
    }
    // Go.
    if (write(block[1], "1", 1) != 1) {
      // bwrap is gone; its exit status says why.
    }
    close_pipes();
  }
  SandboxResult result;
  result.timeout_limit = spec.timeout;
  result.memory_limit = spec.memory_bytes;
  result.pids_limit = spec.max_pids;
  int status = 0;
  absl::Time deadline = start + spec.timeout;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    bool cancelled = spec.cancel != nullptr && spec.cancel->load();
    if (cancelled || absl::Now() > deadline) {
      (cancelled ? result.cancelled : result.timed_out) = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  result.wall_time = absl::Now() - start;
  network.reset();  // slirp4netns stops with the sandbox
  if (seccomp_fd >= 0) close(seccomp_fd);
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
    // bwrap reports a child killed by a signal as 128 + signal.
    if (result.exit_code > 128 && result.exit_code < 160)
      result.term_signal = result.exit_code - 128;
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  if (!mem_cg.empty() && !cgroup2_.empty()) {
    result.memory_exceeded =
        StatValue(ReadSmall(mem_cg + "/memory.events"), "oom_kill") > 0;
  } else if (!mem_cg.empty()) {
    result.memory_exceeded =
        StatValue(ReadSmall(mem_cg + "/memory.oom_control"), "oom_kill") > 0 ||
        (result.term_signal == SIGKILL &&
         StatValue("failcnt " + ReadSmall(mem_cg + "/memory.failcnt"),
                   "failcnt") > 0);
  }
  if (!pids_cg.empty()) {
    result.pids_exceeded =
        StatValue(ReadSmall(pids_cg + "/pids.events"), "max") > 0;
  }
  RemoveCgroup(mem_cg);
  if (pids_cg != mem_cg) RemoveCgroup(pids_cg);
  return result;
}

}  // namespace pbrx::executor
