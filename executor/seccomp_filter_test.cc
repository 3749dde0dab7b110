#include "executor/seccomp_filter.h"

#include <seccomp.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "executor/bubblewrap_sandbox.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::executor {
namespace {

using ::testing::HasSubstr;

// The calls issue 9 names, each of which must be refused outright.
constexpr const char* kRequired[] = {"setns",           "mount",
                                     "umount2",         "fsopen",
                                     "fsmount",         "move_mount",
                                     "open_tree",       "fsconfig",
                                     "fspick",          "mount_setattr",
                                     "pivot_root",      "io_uring_setup",
                                     "io_uring_enter",  "io_uring_register",
                                     "userfaultfd",     "bpf",
                                     "perf_event_open", "keyctl",
                                     "add_key",         "request_key",
                                     "kexec_load",      "kexec_file_load",
                                     "init_module",     "finit_module",
                                     "delete_module",   "ptrace",
                                     "unshare"};

TEST(SeccompFilterTest, TheListCoversEveryCallTheThreatModelNames) {
  const std::vector<std::string>& denied = DeniedSyscalls();
  for (const char* name : kRequired) {
    EXPECT_NE(std::find(denied.begin(), denied.end(), name), denied.end())
        << name;
  }
}

TEST(SeccompFilterTest, EveryDeniedCallIsAnUnconditionalEpermRule) {
  absl::StatusOr<std::string> pfc = SeccompFilterText();
  ASSERT_TRUE(pfc.ok()) << pfc.status();
  for (const std::string& name : DeniedSyscalls()) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    ASSERT_NE(nr, __NR_SCMP_ERROR) << name << " unknown to libseccomp";
    EXPECT_THAT(*pfc, HasSubstr(absl::StrCat("  if ($syscall == ", nr,
                                             ")\n    action ERRNO(1);\n")))
        << name;
  }
  // clone3 is ENOSYS (the C library falls back to clone).
  EXPECT_THAT(*pfc, HasSubstr("  if ($syscall == 435)\n    action ERRNO(38);"));
  // clone: one EPERM rule per namespace flag, on the flags argument.
  for (uint32_t flag : {0x00020000u, 0x02000000u, 0x04000000u, 0x08000000u,
                        0x10000000u, 0x20000000u, 0x40000000u, 0x00000080u}) {
    EXPECT_THAT(*pfc, HasSubstr(absl::StrCat(
                          "if ($a0.lo32 & 0x", absl::Hex(flag, absl::kZeroPad8),
                          " == ", flag, ")\n        action ERRNO(1);")))
        << std::hex << flag;
  }
}

// Each denied call, made inside a real sandbox with harmless arguments,
// fails with EPERM. (Where the kernel would refuse the call to an
// unprivileged process anyway, the rule test above is what proves the
// filter; bubblewrap_sandbox_test runs unshare and mount unfiltered as the
// control.)
class DeniedCallTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    auto s = BubblewrapSandbox::Create(BubblewrapOptions{});
    ASSERT_TRUE(s.ok()) << s.status();
    sandbox_ = s->release();
  }
  static BubblewrapSandbox* sandbox_;
};
BubblewrapSandbox* DeniedCallTest::sandbox_ = nullptr;

TEST_P(DeniedCallTest, RefusedWithEpermInsideTheSandbox) {
  const std::string& name = GetParam();
  int nr = seccomp_syscall_resolve_name(name.c_str());
  ASSERT_NE(nr, __NR_SCMP_ERROR);
  std::string dir = testing_util::NewTempDir("seccomp");
  SandboxSpec spec;
  spec.argv = {"python3", "-c",
               "import ctypes, sys\n"
               "libc = ctypes.CDLL(None, use_errno=True)\n"
               "r = libc.syscall(int(sys.argv[1]), -1, 0, 0, 0, 0, 0)\n"
               "print(r, ctypes.get_errno())\n",
               absl::StrCat(nr)};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  spec.stdout_path = dir + "/out";
  spec.stderr_path = dir + "/err";
  spec.timeout = absl::Seconds(60);
  auto r = sandbox_->Run(spec);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << testing_util::ReadFile(dir + "/err");
  EXPECT_EQ(testing_util::ReadFile(dir + "/out"), "-1 1\n") << name;
}

INSTANTIATE_TEST_SUITE_P(AllDenied, DeniedCallTest,
                         ::testing::ValuesIn(DeniedSyscalls()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pbrx::executor
