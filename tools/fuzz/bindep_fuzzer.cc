// libFuzzer target for the bindep parser and everything that consumes its
// output. Besides "never crash", it checks invariants: a parsed version
// compares equal to itself, rule lines are increasing, and selection only
// returns rules of the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "common/bindep/bindep_file.h"
#include "common/bindep/debian_version.h"
#include "common/bindep/selection.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  namespace bd = pbrx::common::bindep;
  absl::StatusOr<bd::BindepFile> file = bd::ParseBindepFile(text, "fuzz");
  if (!file.ok()) {
    if (file.status().message().empty()) std::abort();
    return 0;
  }
  int last_line = 0;
  for (const bd::Rule& r : file->rules) {
    if (r.line <= last_line || r.name.size() < 2) std::abort();
    last_line = r.line;
    for (const bd::VersionConstraint& c : r.versions) {
      bool ok = false;
      if (bd::CompareDebianVersions(c.version, c.version, &ok) != 0 || !ok)
        std::abort();
      if (!bd::SatisfiesConstraint(c.version, ">=", c.version)) std::abort();
      if (bd::SatisfiesConstraint(c.version, "<", c.version)) std::abort();
    }
  }
  absl::flat_hash_set<std::string> profiles = {"default", "test",
                                               "platform:dpkg"};
  if (bd::ActiveRules(*file, profiles).size() > file->rules.size())
    std::abort();
  bd::ConfigurationProfiles(*file);
  return 0;
}
