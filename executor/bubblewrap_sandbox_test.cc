#include "executor/bubblewrap_sandbox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::executor {
namespace {

using ::testing::HasSubstr;

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = BubblewrapSandbox::Create(BubblewrapOptions{});
    ASSERT_TRUE(s.ok()) << s.status();
    sandbox_ = std::move(*s);
    dir_ = testing_util::NewTempDir("sbx");
    work_ = dir_ + "/work";
    mkdir(work_.c_str(), 0755);
  }

  SandboxSpec Spec(std::vector<std::string> argv) {
    SandboxSpec spec;
    spec.argv = std::move(argv);
    spec.env = {{"PATH", "/usr/bin:/bin"}, {"HOME", "/tmp"}};
    spec.work_dir = work_;
    spec.stdout_path = dir_ + "/out";
    spec.stderr_path = dir_ + "/err";
    spec.timeout = absl::Seconds(60);
    return spec;
  }
  SandboxResult Run(const SandboxSpec& spec) {
    auto r = sandbox_->Run(spec);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : SandboxResult{};
  }
  std::string Out() { return testing_util::ReadFile(dir_ + "/out"); }
  std::string Err() { return testing_util::ReadFile(dir_ + "/err"); }

  std::unique_ptr<BubblewrapSandbox> sandbox_;
  std::string dir_, work_;
};

TEST_F(SandboxTest, ExitCodeOutputAndWritableWork) {
  SandboxResult r = Run(Spec(
      {"sh", "-c", "echo hello; echo oops >&2; echo data > out.txt; exit 3"}));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.Describe(), "exit 3");
  EXPECT_EQ(Out(), "hello\n");
  EXPECT_EQ(Err(), "oops\n");
  EXPECT_EQ(testing_util::ReadFile(work_ + "/out.txt"), "data\n");
}

TEST_F(SandboxTest, HostFilesAreInvisibleAndRootIsReadOnly) {
  std::ofstream(dir_ + "/secret") << "top secret";
  SandboxResult r = Run(
      Spec({"sh", "-c",
            absl::StrCat(
                "cat ", dir_,
                "/secret; ls /root /home /etc/shadow; touch /usr/x; touch /x; "
                "touch /tmp/ok && echo tmp-writable; id -u; cat "
                "/proc/self/status | grep CapEff")}));
  EXPECT_EQ(r.exit_code, 0);  // the last command (grep) succeeds
  EXPECT_THAT(Err(), HasSubstr(dir_ + "/secret: No such file or directory"));
  EXPECT_THAT(Err(), HasSubstr("/root': No such file or directory"));
  EXPECT_THAT(Err(), HasSubstr("/etc/shadow': No such file or directory"));
  EXPECT_THAT(Err(),
              HasSubstr("touch: cannot touch '/usr/x': Read-only file system"));
  EXPECT_THAT(Out(), HasSubstr("tmp-writable\n"));
  EXPECT_THAT(Out(), HasSubstr("CapEff:\t0000000000000000"));
}

TEST_F(SandboxTest, CommandsRunAsRootOfAnUnprivilegedIdRange) {
  // Root inside is 2^31 on the host: what it writes to /work is that id's.
  SandboxResult r =
      Run(Spec({"sh", "-c",
                "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -G; "
                "echo x > made; mkdir dir"}));
  EXPECT_EQ(r.exit_code, 0) << Err();
  EXPECT_EQ(Out(),
            "         0 2147483648      65536\n"
            "         0 2147483648      65536\n"
            "0\n0\n");
  struct stat st;
  ASSERT_EQ(lstat((work_ + "/made").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 2147483648u);
  EXPECT_EQ(st.st_gid, 2147483648u);
  ASSERT_EQ(lstat((work_ + "/dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 2147483648u);
}

TEST_F(SandboxTest, AnotherIdRangeIsUsedAsGiven) {
  BubblewrapOptions o;
  o.ids = ParseSandboxIds("3000000000:70000").value();
  auto other = BubblewrapSandbox::Create(o);
  ASSERT_TRUE(other.ok()) << other.status();
  auto r = (*other)->Run(
      Spec({"sh", "-c", "cat /proc/self/uid_map; echo x > made"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << Err();
  EXPECT_EQ(Out(), "         0 3000000000      70000\n");
  struct stat st;
  ASSERT_EQ(lstat((work_ + "/made").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 3000000000u);
}

TEST_F(SandboxTest, PackageManagerCapabilitiesNeverReachHostFiles) {
  // A package-manager step holds CAP_DAC_OVERRIDE, CAP_CHOWN, ... but only
  // over its own ids: a root-only host file bound in stays unreadable (as
  // real root with those capabilities it was readable), while chown on its
  // own files works.
  std::string host = dir_ + "/host";
  mkdir(host.c_str(), 0755);
  std::ofstream(host + "/secret") << "host root only";
  chmod((host + "/secret").c_str(), 0600);
  std::ofstream(host + "/keep") << "keep me";
  SandboxSpec spec =
      Spec({"sh", "-c",
            "grep CapEff /proc/self/status; cat /host/secret; "
            "touch /tmp/t && chown 42:42 /tmp/t && stat -c %u:%g /tmp/t; "
            "touch /host/keep"});
  spec.package_manager = true;
  spec.ro_binds = {{host, "/host"}};
  SandboxResult r = Run(spec);
  EXPECT_THAT(Out(), HasSubstr("CapEff:\t00000000000000fb"));
  EXPECT_THAT(Err(), HasSubstr("cat: /host/secret: Permission denied"));
  EXPECT_THAT(Out(), HasSubstr("42:42\n"));
  EXPECT_THAT(Err(), HasSubstr("touch: cannot touch '/host/keep'"));
  EXPECT_EQ(testing_util::ReadFile(host + "/keep"), "keep me");
  struct stat st;
  ASSERT_EQ(lstat((host + "/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

int ListenOnLoopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  listen(fd, 4);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

TEST_F(SandboxTest, NoNetworkUnlessAsked) {
  int port = 0;
  int fd = ListenOnLoopback(&port);
  std::string probe =
      absl::StrCat("exec 3<>/dev/tcp/127.0.0.1/", port, " && echo connected");
  // Without network: a private loopback, the host's server is not there, and
  // no route leaves the sandbox.
  SandboxResult r = Run(Spec({"bash", "-c", probe}));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(Err(), HasSubstr("Connection refused"));
  r = Run(Spec({"bash", "-c",
                "exec 3<>/dev/tcp/192.0.2.1/80"}));  // TEST-NET-1, never routed
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(Err(), HasSubstr("Network is unreachable"));
  r = Run(Spec({"sh", "-c", "ls /proc/sys/net/ipv4/conf"}));
  EXPECT_EQ(Out(), "all\ndefault\nlo\n");
  // With network and egress isolation off (a host without slirp4netns):
  // the host's network, loopback included. (Isolated egress:
  // egress_network_test.)
  BubblewrapOptions shared;
  shared.isolate_egress = false;
  auto host_net = BubblewrapSandbox::Create(shared);
  ASSERT_TRUE(host_net.ok());
  SandboxSpec spec = Spec({"bash", "-c", probe});
  spec.network = true;
  auto shared_run = (*host_net)->Run(spec);
  ASSERT_TRUE(shared_run.ok()) << shared_run.status();
  EXPECT_EQ(shared_run->exit_code, 0) << Err();
  EXPECT_EQ(Out(), "connected\n");
  close(fd);
}

TEST_F(SandboxTest, ForkBombIsContained) {
  ASSERT_TRUE(sandbox_->uses_cgroups());
  SandboxSpec spec = Spec(
      {"bash", "-c", "bomb() { bomb | bomb & }; bomb; sleep 3; echo survived"});
  spec.max_pids = 64;
  spec.timeout = absl::Seconds(20);
  SandboxResult r = Run(spec);
  EXPECT_TRUE(r.pids_exceeded);
  EXPECT_FALSE(r.timed_out);
  EXPECT_THAT(Err(), HasSubstr("Resource temporarily unavailable"));
}

TEST_F(SandboxTest, ProcessLimitIsNamedWhenTheCommandFailsOnIt) {
  // Children with their output elsewhere, as a build's fork bomb would
  // leave them; the command itself fails on the refused fork.
  SandboxSpec spec =
      Spec({"python3", "-c",
            "import os, sys\n"
            "while True:\n"
            "    try:\n"
            "        if os.fork() == 0:\n"
            "            os.dup2(os.open('/dev/null', os.O_RDWR), 1)\n"
            "            os.execvp('sleep', ['sleep', '30'])\n"
            "    except OSError as e:\n"
            "        print('refused:', e.strerror)\n"
            "        sys.exit(5)\n"});
  spec.max_pids = 32;
  SandboxResult r = Run(spec);
  EXPECT_EQ(Out(), "refused: Resource temporarily unavailable\n") << Err();
  EXPECT_TRUE(r.pids_exceeded);
  EXPECT_EQ(r.Describe(), "exit 5 (process limit 32 reached)");
}

TEST_F(SandboxTest, MemoryHogIsKilled) {
  SandboxSpec spec =
      Spec({"python3", "-c",
            "x = bytearray(512 * 1024 * 1024); print('allocated')"});
  spec.memory_bytes = 64 << 20;
  SandboxResult r = Run(spec);
  EXPECT_TRUE(r.memory_exceeded) << r.Describe() << " " << Err();
  EXPECT_EQ(r.Describe(), "killed: memory limit (64 MiB) exceeded");
  EXPECT_EQ(Out(), "");
}

TEST_F(SandboxTest, MemoryLimitFallsBackToRlimitWithoutCgroups) {
  BubblewrapOptions o;
  o.cgroup_root = "/nonexistent";
  auto s = BubblewrapSandbox::Create(o);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE((*s)->uses_cgroups());
  SandboxSpec spec =
      Spec({"python3", "-c",
            "x = bytearray(512 * 1024 * 1024); print('allocated')"});
  spec.memory_bytes = 256 << 20;
  auto r = (*s)->Run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->exit_code, 0);
  EXPECT_THAT(Err(), HasSubstr("MemoryError"));
}

TEST_F(SandboxTest, WallTimeLimit) {
  SandboxSpec spec = Spec({"sleep", "30"});
  spec.timeout = absl::Milliseconds(300);
  SandboxResult r = Run(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(r.wall_time, absl::Seconds(10));
  EXPECT_EQ(r.Describe(), "killed: wall-time limit (300ms) exceeded");
}

TEST_F(SandboxTest, CancelKillsTheCommand) {
  SandboxSpec spec = Spec({"sleep", "30"});
  std::atomic<bool> cancel{false};
  spec.cancel = &cancel;
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(200));
    cancel = true;
  });
  SandboxResult r = Run(spec);
  canceller.join();
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(r.wall_time, absl::Seconds(10));
  EXPECT_EQ(r.Describe(), "killed: cancelled");
}

// Calls unshare(CLONE_NEWUSER) and mount() on a missing directory directly
// and prints each return value and errno. Without the filter the first
// succeeds (a nested user namespace needs no capability) and the second
// fails with ENOENT (the path is resolved before privileges are checked);
// only the filter makes both EPERM.
constexpr char kSyscallProbe[] = R"PY(
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
r = libc.unshare(0x10000000)
print("unshare", r, ctypes.get_errno())
ctypes.set_errno(0)
r = libc.mount(b"none", b"/nonexistent-pbrx", b"tmpfs", 0, None)
print("mount", r, ctypes.get_errno())
)PY";

TEST_F(SandboxTest, SeccompRefusesNamespaceAndMountCalls) {
  SandboxResult r = Run(Spec({"python3", "-c", kSyscallProbe}));
  ASSERT_EQ(r.exit_code, 0) << Err();
  EXPECT_EQ(Out(), "unshare -1 1\nmount -1 1\n");  // EPERM twice
}

// Namespaces through clone, clone3, io_uring, userfaultfd and persona
// changes: each refused with the errno the filter gives, while threads,
// fork and a persona query still work.
constexpr char kMoreSyscalls[] = R"PY(
import ctypes, os, threading
libc = ctypes.CDLL(None, use_errno=True)
def call(name, nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(nr, *args)
    print(name, r, ctypes.get_errno())
call("clone-newuser", 56, 0x10000000 | 17, 0, 0, 0, 0)
call("clone-newnet", 56, 0x40000000 | 17, 0, 0, 0, 0)
call("clone3", 435, 0, 0)
call("io_uring_setup", 425, 1, 0)
call("userfaultfd", 323, 0)
call("personality-query", 135, ctypes.c_ulong(0xffffffff))
call("personality-norandom", 135, 0x0040000)
t = threading.Thread(target=lambda: print("thread ok"))
t.start(); t.join()
pid = os.fork()
if pid == 0:
    os._exit(7)
print("fork", os.waitpid(pid, 0)[1] >> 8)
)PY";

TEST_F(SandboxTest, SeccompRefusesCloneNamespacesIoUringAndPersonas) {
  SandboxResult r = Run(Spec({"python3", "-c", kMoreSyscalls}));
  ASSERT_EQ(r.exit_code, 0) << Err();
  EXPECT_EQ(Out(),
            "clone-newuser -1 1\n"
            "clone-newnet -1 1\n"
            "clone3 -1 38\n"
            "io_uring_setup -1 1\n"
            "userfaultfd -1 1\n"
            "personality-query 0 0\n"
            "personality-norandom -1 1\n"
            "thread ok\n"
            "fork 7\n");
}

TEST_F(SandboxTest, WithoutSeccompTheSameCallsReachTheKernel) {
  // The control for the test above: the EPERMs come from the filter.
  BubblewrapOptions o;
  o.seccomp = false;
  auto unfiltered = BubblewrapSandbox::Create(o);
  ASSERT_TRUE(unfiltered.ok()) << unfiltered.status();
  auto r = (*unfiltered)->Run(Spec({"python3", "-c", kSyscallProbe}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << Err();
  EXPECT_EQ(Out(), "unshare 0 0\nmount -1 2\n");  // ENOENT
}

TEST_F(SandboxTest, OnlyStandardDescriptorsReachTheCommand) {
  // Another thread of the executor holds files open without O_CLOEXEC (as
  // std::ofstream does): none of them may reach the sandbox.
  std::string leak = dir_ + "/leak";
  int held = open(leak.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(held, 3);
  SandboxResult r = Run(Spec({"ls", "/proc/self/fd"}));
  close(held);
  ASSERT_EQ(r.exit_code, 0) << testing_util::ReadFile(dir_ + "/err");
  // 0, 1, 2 and the directory ls opened to list them.
  EXPECT_EQ(testing_util::ReadFile(dir_ + "/out"), "0\n1\n2\n3\n");
}

TEST_F(SandboxTest, CgroupV2LimitsGoIntoAChildCgroup) {
  // This machine's controllers are on cgroup v1; the v2 path runs against a
  // directory laid out like a delegated cgroup2 mount (v1 made unusable).
  std::string fake = testing_util::NewTempDir("cg2");
  mkdir((fake + "/pbrx.slice").c_str(), 0755);
  std::ofstream(fake + "/pbrx.slice/cgroup.subtree_control") << "memory pids\n";
  std::ofstream(fake + "/self-cgroup") << "0::/pbrx.slice\n";
  BubblewrapOptions o;
  o.cgroup_root = testing_util::NewTempDir("no-v1");
  o.cgroup2_root = fake;
  o.proc_self_cgroup = fake + "/self-cgroup";
  o.cgroup2_plain_dir_for_tests = true;
  auto v2 = BubblewrapSandbox::Create(o);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_TRUE((*v2)->uses_cgroups());
  EXPECT_TRUE((*v2)->uses_cgroup2());
  SandboxSpec spec = Spec({"true"});
  spec.memory_bytes = 64 << 20;
  spec.max_pids = 77;
  auto r = (*v2)->Run(spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0);
  // The run's child cgroup got the limits (a fake dir keeps the files).
  std::vector<std::string> children;
  DIR* d = opendir((fake + "/pbrx.slice").c_str());
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind("pbrx-", 0) == 0) children.push_back(n);
  }
  closedir(d);
  ASSERT_EQ(children.size(), 1u);
  std::string cg = fake + "/pbrx.slice/" + children[0];
  EXPECT_EQ(testing_util::ReadFile(cg + "/memory.max"), "67108864");
  EXPECT_EQ(testing_util::ReadFile(cg + "/memory.swap.max"), "0");
  EXPECT_EQ(testing_util::ReadFile(cg + "/pids.max"), "77");
  EXPECT_FALSE(testing_util::ReadFile(cg + "/cgroup.procs").empty());
  // Without delegated controllers (and none to enable) there is no v2; nor
  // on a root that is not a cgroup2 mount (without the test switch).
  std::ofstream(fake + "/self-cgroup") << "0::/elsewhere\n";
  auto none = BubblewrapSandbox::Create(o);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE((*none)->uses_cgroups());
  std::ofstream(fake + "/self-cgroup") << "0::/pbrx.slice\n";
  o.cgroup2_plain_dir_for_tests = false;
  auto plain = BubblewrapSandbox::Create(o);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*plain)->uses_cgroups());
}

// Regular files under `root` (at most `depth` levels down, each under
// 1 MiB, symlinks not followed) that contain `needle`.
std::vector<std::string> FilesHolding(const std::string& needle,
                                      const std::string& root, int depth) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator
           it(root, fs::directory_options::skip_permission_denied, ec),
       end;
       it != end; it.increment(ec)) {
    if (ec) break;
    if (it.depth() >= depth) it.disable_recursion_pending();
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    if (it->file_size(ec) > (1 << 20)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find(needle) != std::string::npos)
      out.push_back(it->path().string());
  }
  return out;
}

// A secret reaches the command as a read-only file under /tmp made from
// bytes: no host file holds it at any time (the host's /tmp, /var/tmp, the
// run dir and the work dir are searched while the command runs).
TEST_F(SandboxTest, DataFilesComeFromBytesNotTheHostDisk) {
  // Made at run time, so no other file on this host holds it.
  const std::string password =
      absl::StrCat("pw", getpid(), "-", absl::ToUnixNanos(absl::Now()));
  const std::string secret =
      "machine idx.example login bot password " + password;
  SandboxSpec spec = Spec(
      {"sh", "-c",
       "cat /tmp/.netrc; stat -c '%a' /tmp/.netrc; echo x >> /tmp/.netrc "
       "|| echo read-only; touch ready; while [ ! -e done ]; do sleep 0.05; "
       "done"});
  spec.data_files["/tmp/.netrc"] = secret + "\n";
  std::vector<std::string> found;
  std::atomic<bool> searched{false};
  std::thread searcher([&] {
    for (int i = 0; i < 600 && access((work_ + "/ready").c_str(), F_OK) != 0;
         ++i)
      usleep(50 * 1000);
    found = FilesHolding(password, dir_, 8);
    for (const char* root : {"/tmp", "/var/tmp"}) {
      for (const std::string& f : FilesHolding(password, root, 2))
        found.push_back(f);
    }
    searched = true;
    std::ofstream(work_ + "/done") << "";
  });
  SandboxResult r = Run(spec);
  searcher.join();
  EXPECT_TRUE(searched);
  EXPECT_EQ(r.exit_code, 0) << Err();
  EXPECT_THAT(Out(), HasSubstr(secret + "\n444\nread-only\n"));
  // Only the command's own stdout (which printed it) holds it.
  for (const std::string& f : found)
    EXPECT_EQ(f, dir_ + "/out") << "the secret is on the host's disk";
}

TEST_F(SandboxTest, DataFilesOnlyAsPlainNamesUnderTmp) {
  for (const char* bad :
       {"/etc/passwd", "/tmp/a/b", "/tmp/..", "/tmp/", "tmp/x"}) {
    SandboxSpec spec = Spec({"true"});
    spec.data_files[bad] = "x";
    absl::StatusOr<SandboxResult> r = sandbox_->Run(spec);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  SandboxSpec spec = Spec({"true"});
  spec.data_files["/tmp/big"] = std::string(33 << 10, 'x');
  EXPECT_EQ(sandbox_->Run(spec).status().message(),
            "data files: at most 4 and 32 KiB in all");
}

TEST_F(SandboxTest, BadSpecs) {
  EXPECT_EQ(sandbox_->Run(SandboxSpec{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  SandboxSpec spec = Spec({"true"});
  spec.work_dir = "/nonexistent";
  EXPECT_EQ(sandbox_->Run(spec).status().code(),
            absl::StatusCode::kInvalidArgument);
  SandboxResult r = Run(Spec({"no-such-command-pbrx"}));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(Err(), HasSubstr("no-such-command-pbrx"));
}

}  // namespace
}  // namespace pbrx::executor
