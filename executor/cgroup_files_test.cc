#include "executor/cgroup_files.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::executor {
namespace {

using ::testing::ElementsAre;

// /proc/self/mountinfo of a process in a podman container on a cgroup v1
// host (cgroupfs manager, no cgroup namespace): each controller's mount
// shows only the container's own group.
constexpr char kContainerMounts[] =
    "313 271 0:103 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755\n"
    "317 313 0:31 /libpod_parent/libpod-abc /sys/fs/cgroup/memory "
    "rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory\n"
    "321 313 0:35 /libpod_parent/libpod-abc /sys/fs/cgroup/pids "
    "rw,nosuid,nodev,noexec,relatime shared:5 - cgroup cgroup rw,pids\n"
    "314 313 0:28 /libpod_parent/libpod-abc /sys/fs/cgroup/cpu,cpuacct "
    "rw - cgroup cgroup rw,cpu,cpuacct\n";

// A host's own mounts: the whole hierarchy.
constexpr char kHostMounts[] =
    "35 25 0:31 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
    "36 25 0:35 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids\n";

TEST(CgroupV1CandidatesTest, OnAHostThePathUnderTheControllerOnly) {
  EXPECT_THAT(CgroupV1Candidates("/system.slice/pbrx-executor.service",
                                 "memory", "/sys/fs/cgroup", kHostMounts),
              ElementsAre("/sys/fs/cgroup/memory/system.slice/"
                          "pbrx-executor.service"));
}

TEST(CgroupV1CandidatesTest, InAContainerTheMountOfItsOwnGroup) {
  EXPECT_THAT(CgroupV1Candidates("/libpod_parent/libpod-abc", "memory",
                                 "/sys/fs/cgroup", kContainerMounts),
              ElementsAre("/sys/fs/cgroup/memory/libpod_parent/libpod-abc",
                          "/sys/fs/cgroup/memory"));
  EXPECT_THAT(CgroupV1Candidates("/libpod_parent/libpod-abc/sub", "pids",
                                 "/sys/fs/cgroup", kContainerMounts),
              ElementsAre("/sys/fs/cgroup/pids/libpod_parent/libpod-abc/sub",
                          "/sys/fs/cgroup/pids/sub"));
}

TEST(CgroupV1CandidatesTest, NeverAMountOutsideItsGroupOrRoot) {
  // Another container's group, a controller not asked for, a mount outside
  // the configured root: none is a candidate.
  EXPECT_THAT(CgroupV1Candidates("/libpod_parent/libpod-other", "memory",
                                 "/sys/fs/cgroup", kContainerMounts),
              ElementsAre("/sys/fs/cgroup/memory/libpod_parent/libpod-other"));
  EXPECT_THAT(CgroupV1Candidates("/libpod_parent/libpod-abc", "cpuset",
                                 "/sys/fs/cgroup", kContainerMounts),
              ElementsAre("/sys/fs/cgroup/cpuset/libpod_parent/libpod-abc"));
  EXPECT_THAT(CgroupV1Candidates("/libpod_parent/libpod-abc", "memory",
                                 "/tmp/cg", kContainerMounts),
              ElementsAre("/tmp/cg/memory/libpod_parent/libpod-abc"));
  // A group whose name only starts like the mount's root is not inside it.
  EXPECT_THAT(CgroupV1Candidates("/libpod_parent/libpod-abcdef", "memory",
                                 "/sys/fs/cgroup", kContainerMounts),
              ElementsAre("/sys/fs/cgroup/memory/libpod_parent/libpod-abcdef"));
}

TEST(CgroupV1CandidatesTest, MalformedLinesAreSkipped) {
  EXPECT_THAT(CgroupV1Candidates("/a", "memory", "/sys/fs/cgroup",
                                 "garbage\n1 2 3\n - cgroup\n\n"),
              ElementsAre("/sys/fs/cgroup/memory/a"));
}

}  // namespace
}  // namespace pbrx::executor
