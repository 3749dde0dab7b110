#include "executor/seccomp_filter.h"

#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace pbrx::executor {
namespace {

// The filter as a libseccomp context; nullptr when a rule could not be
// added (never a filter with a rule silently missing).
scmp_filter_ctx BuildFilter() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return nullptr;
  bool ok = true;

  for (const std::string& name : DeniedSyscalls()) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;
    ok &= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) == 0;
  }
  // New namespaces through clone: its flags are an argument a filter can
  // see (one rule per flag: denied when the bit is set). clone3 passes them
  // in memory a filter cannot read: ENOSYS makes the C library fall back
  // to clone, so threads and fork keep working.
  for (uint64_t flag :
       {uint64_t{CLONE_NEWNS}, uint64_t{CLONE_NEWCGROUP},
        uint64_t{CLONE_NEWUTS}, uint64_t{CLONE_NEWIPC}, uint64_t{CLONE_NEWUSER},
        uint64_t{CLONE_NEWPID}, uint64_t{CLONE_NEWNET},
        uint64_t{0x00000080} /* CLONE_NEWTIME */}) {
    ok &= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                           SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)) == 0;
  }
  ok &= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) == 0;
  // personality: querying (0xffffffff) and the default persona only: a
  // request with one of these flags is refused. Bit 31 is in the mask so
  // the query, which sets every bit, never matches.
  for (uint64_t flag : {uint64_t{0x0040000} /* ADDR_NO_RANDOMIZE */,
                        uint64_t{0x0400000} /* READ_IMPLIES_EXEC */,
                        uint64_t{0x0200000} /* ADDR_COMPAT_LAYOUT */,
                        uint64_t{0x0100000} /* MMAP_PAGE_ZERO */}) {
    ok &= seccomp_rule_add(
              ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
              SCMP_A0(SCMP_CMP_MASKED_EQ, flag | 0x80000000u, flag)) == 0;
  }
  if (!ok) {
    seccomp_release(ctx);
    return nullptr;
  }
  return ctx;
}

}  // namespace

const std::vector<std::string>& DeniedSyscalls() {
  static const auto* names = new std::vector<std::string>{"mount",
                                                          "umount2",
                                                          "unshare",
                                                          "setns",
                                                          "ptrace",
                                                          "process_vm_readv",
                                                          "process_vm_writev",
                                                          "kexec_load",
                                                          "kexec_file_load",
                                                          "init_module",
                                                          "finit_module",
                                                          "delete_module",
                                                          "bpf",
                                                          "perf_event_open",
                                                          "add_key",
                                                          "request_key",
                                                          "keyctl",
                                                          "reboot",
                                                          "swapon",
                                                          "swapoff",
                                                          "pivot_root",
                                                          "open_by_handle_at",
                                                          "name_to_handle_at",
                                                          "fsopen",
                                                          "fsmount",
                                                          "move_mount",
                                                          "open_tree",
                                                          "syslog",
                                                          "acct",
                                                          "settimeofday",
                                                          "clock_settime",
                                                          "iopl",
                                                          "ioperm",
                                                          "fsconfig",
                                                          "fspick",
                                                          "mount_setattr",
                                                          "io_uring_setup",
                                                          "io_uring_enter",
                                                          "io_uring_register",
                                                          "userfaultfd"};
  return *names;
}

int SeccompProgramFd() {
  scmp_filter_ctx ctx = BuildFilter();
  if (ctx == nullptr) return -1;
  int fd = memfd_create("pbrx-seccomp", 0);
  if (fd >= 0 &&
      (seccomp_export_bpf(ctx, fd) != 0 || lseek(fd, 0, SEEK_SET) != 0)) {
    close(fd);
    fd = -1;
  }
  seccomp_release(ctx);
  return fd;
}

absl::StatusOr<std::string> SeccompFilterText() {
  scmp_filter_ctx ctx = BuildFilter();
  if (ctx == nullptr)
    return absl::InternalError("cannot build the seccomp filter");
  int fd = memfd_create("pbrx-seccomp-pfc", MFD_CLOEXEC);
  std::string text;
  if (fd >= 0 && seccomp_export_pfc(ctx, fd) == 0 &&
      lseek(fd, 0, SEEK_SET) == 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) text.append(buf, n);
  }
  if (fd >= 0) close(fd);
  seccomp_release(ctx);
  if (text.empty())
    return absl::InternalError("cannot export the seccomp filter");
  return text;
}

}  // namespace pbrx::executor
