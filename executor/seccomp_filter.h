// The seccomp filter of every sandboxed step: system calls a build step
// never needs are refused. Outright (EPERM): the calls in DeniedSyscalls()
// (mounts, namespaces, ptrace, kernel modules, kexec, bpf, perf, keyrings,
// io_uring, userfaultfd, clock and swap changes, ...). By argument: clone
// with any namespace flag (EPERM); clone3 (ENOSYS: its flags are in memory
// a filter cannot read, and the C library then falls back to clone, so
// threads and fork keep working); personality with a non-default persona
// flag (EPERM; the query still works). Everything else is allowed.
#ifndef PBRX_EXECUTOR_SECCOMP_FILTER_H_
#define PBRX_EXECUTOR_SECCOMP_FILTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pbrx::executor {

// Names of the system calls refused outright (those this kernel's libseccomp
// does not know are skipped when the filter is built).
const std::vector<std::string>& DeniedSyscalls();

// The compiled BPF program in a memfd at offset 0, for bwrap --seccomp (not
// close-on-exec: bwrap inherits it); the caller closes it. -1 when the
// filter cannot be built.
int SeccompProgramFd();

// The same filter as libseccomp's pseudo-filter-code text (for tests and
// `--help`-level inspection).
absl::StatusOr<std::string> SeccompFilterText();

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_SECCOMP_FILTER_H_
