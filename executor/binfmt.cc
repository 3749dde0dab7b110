#include "executor/binfmt.h"

#include <dirent.h>

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/beneath.h"

namespace pbrx::executor {
namespace {

// qemu's names of the architectures images are built for.
const std::map<std::string, std::string>& KnownPlatforms() {
  static const auto* known = new std::map<std::string, std::string>{
      {"aarch64", "linux/arm64"},   {"arm", "linux/arm/v7"},
      {"riscv64", "linux/riscv64"}, {"ppc64le", "linux/ppc64le"},
      {"s390x", "linux/s390x"},
  };
  return *known;
}

// Whether an entry's text says enabled and carries the F flag.
bool UsableEntry(const std::string& text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.empty() || lines[0] != "enabled") return false;
  for (absl::string_view line : lines) {
    if (absl::ConsumePrefix(&line, "flags: ")) {
      return absl::StrContains(line, 'F');
    }
  }
  return false;
}

}  // namespace

std::vector<std::string> BinfmtPlatforms(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) names.emplace_back(e->d_name);
  closedir(d);
  for (const std::string& name : names) {
    absl::string_view arch = name;
    if (!absl::ConsumePrefix(&arch, "qemu-")) continue;
    auto known = KnownPlatforms().find(std::string(arch));
    if (known == KnownPlatforms().end()) continue;
    // Entries are a few hundred bytes; anything larger is not one.
    absl::StatusOr<std::string> text =
        common::ReadRegularFile(dir + "/" + name, 4096);
    if (text.ok() && UsableEntry(*text)) out.push_back(known->second);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace pbrx::executor
