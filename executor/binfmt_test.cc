#include "executor/binfmt.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::executor {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

void Entry(const std::string& dir, const std::string& name,
           const std::string& state, const std::string& flags) {
  std::ofstream(dir + "/" + name)
      << state << "\ninterpreter /usr/libexec/qemu-binfmt/x-binfmt-P\n"
      << "flags: " << flags << "\noffset 0\nmagic 7f454c46\nmask ffffffff\n";
}

TEST(BinfmtTest, EnabledQemuHandlersWithFixedBinariesAreOffered) {
  const std::string dir = testing_util::NewTempDir("binfmt");
  std::ofstream(dir + "/register") << "";
  std::ofstream(dir + "/status") << "enabled\n";
  Entry(dir, "qemu-aarch64", "enabled", "POF");
  Entry(dir, "qemu-riscv64", "enabled", "OCF");
  Entry(dir, "qemu-arm", "enabled", "PO");      // no F: not in a sandbox
  Entry(dir, "qemu-s390x", "disabled", "POF");  // switched off
  Entry(dir, "qemu-mips", "enabled", "POF");    // not a platform we name
  Entry(dir, "python3.11", "enabled", "F");     // not qemu
  EXPECT_THAT(BinfmtPlatforms(dir),
              ElementsAre("linux/arm64", "linux/riscv64"));
}

TEST(BinfmtTest, NoDirectoryNoPlatforms) {
  EXPECT_THAT(BinfmtPlatforms("/nonexistent/binfmt_misc"), IsEmpty());
}

}  // namespace
}  // namespace pbrx::executor
