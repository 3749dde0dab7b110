// HostCanary: the host-integrity check of the hostile-input suite. A case
// directory holds `tree/` (the tree the code under attack reads or writes:
// a project, a layout, a staging dir) and, beside it, `canary/` (files, a
// directory and a symlink standing for the host). Afterwards the canary
// must be byte-identical, the case directory must hold nothing new (where
// ".." escapes land), and none of the host paths the suite's attacks aim at
// (kAimedAt) may exist.
#ifndef PBRX_TESTS_HOSTILE_HOST_CANARY_H_
#define PBRX_TESTS_HOSTILE_HOST_CANARY_H_

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pbrx::hostile {

// Absolute paths the attacks write to, link to or name; never created.
inline const std::vector<std::string>& AimedAt() {
  static const auto* paths = new std::vector<std::string>{
      "/etc/pbrx-hostile", "/tmp/pbrx-hostile", "/root/pbrx-hostile",
      "/usr/pbrx-hostile", "/var/tmp/pbrx-hostile"};
  return *paths;
}

// " set-id" / " world-writable" / " symlink" / " special" for every entry
// below `root` with such a mode or type (what a confined install or staging
// must never leave), "" when there is none.
std::string UnsafeModes(const std::string& root, bool count_symlinks);

class HostCanary {
 public:
  // Creates a fresh case directory under the test's temp dir.
  HostCanary();
  const std::string& dir() const { return dir_; }
  const std::string& root() const { return root_; }  // dir/tree, empty
  const std::string& canary() const { return canary_; }
  // The secret file of the canary, what a read-through-a-link would leak.
  std::string secret_path() const { return canary_ + "/secret"; }
  static constexpr const char* kSecret = "canary secret: host bytes\n";

  // Success when nothing outside root changed; `allowed`: other names the
  // case itself put in dir.
  ::testing::AssertionResult Untouched(
      const std::vector<std::string>& allowed = {}) const;

 private:
  std::map<std::string, std::string> Snapshot() const;
  std::string dir_, root_, canary_;
  std::map<std::string, std::string> before_;
};

}  // namespace pbrx::hostile

#endif  // PBRX_TESTS_HOSTILE_HOST_CANARY_H_
