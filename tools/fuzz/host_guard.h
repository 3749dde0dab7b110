// HostGuard: the "nothing escapes" check of the fuzz targets that write to
// disk. A private directory holds the target directory the code under test
// writes into and a canary file beside it; after each input the directory
// must hold exactly those two names and the canary its original bytes,
// else the target aborts (a finding).
#ifndef PBRX_TOOLS_FUZZ_HOST_GUARD_H_
#define PBRX_TOOLS_FUZZ_HOST_GUARD_H_

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "common/beneath.h"

namespace pbrx::fuzz {

class HostGuard {
 public:
  HostGuard() {
    char tmpl[] = "/tmp/pbrx-fuzz-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    base_ = tmpl;
    std::ofstream(base_ + "/canary") << kCanary;
  }
  // Base directory (for inputs written as files beside the target).
  const std::string& base() const { return base_; }
  // A fresh, empty target directory.
  std::string FreshTarget() {
    Clear();
    std::string t = base_ + "/target";
    if (mkdir(t.c_str(), 0755) != 0) std::abort();
    return t;
  }
  // Aborts unless only "target", "canary" (and `extra`, a file the caller
  // wrote) are in the base directory and the canary is unchanged.
  void Check(const std::string& extra = "") {
    std::set<std::string> names;
    DIR* d = opendir(base_.c_str());
    if (d == nullptr) std::abort();
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.insert(n);
    }
    closedir(d);
    for (const std::string& n : names) {
      if (n != "target" && n != "canary" && n != extra) {
        std::fprintf(stderr, "escaped: %s/%s\n", base_.c_str(), n.c_str());
        std::abort();
      }
    }
    std::ifstream in(base_ + "/canary");
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str() != kCanary) {
      std::fprintf(stderr, "canary changed\n");
      std::abort();
    }
  }
  void Clear() {
    common::UniqueFd fd(open(base_.c_str(), O_RDONLY | O_DIRECTORY));
    if (!common::RemoveAt(fd.get(), "target").ok()) std::abort();
  }

 private:
  static constexpr const char* kCanary = "canary: the host's bytes\n";
  std::string base_;
};

// With PBRX_FUZZ_VERBOSE set (reproducing a seed by hand), prints the
// outcome of the code under test.
inline void Verbose(const absl::Status& status) {
  if (std::getenv("PBRX_FUZZ_VERBOSE") != nullptr)
    std::fprintf(stderr, "outcome: %s\n", status.ToString().c_str());
}

}  // namespace pbrx::fuzz

#endif  // PBRX_TOOLS_FUZZ_HOST_GUARD_H_
