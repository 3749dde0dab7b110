// libFuzzer target for the os-release parser (a base image's /etc/os-release
// is the base author's text) and the platform derived from it. Besides
// "never crash": keys come out lower-cased and non-empty, errors carry a
// message, and a platform's atoms are sorted and unique.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/bindep/platform.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace bd = pbrx::common::bindep;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto fields = bd::ParseOsRelease(text, "os-release");
  if (!fields.ok()) {
    if (fields.status().message().empty()) std::abort();
    return 0;
  }
  for (const auto& [k, v] : *fields) {
    if (k.empty()) std::abort();
    for (char c : k) {
      if (c >= 'A' && c <= 'Z') std::abort();
    }
  }
  bd::DistroInfo distro = bd::DistroFromOsRelease(*fields);
  auto platform = bd::PlatformFromDistro(distro);
  if (platform.ok()) {
    for (size_t i = 1; i < platform->atoms.size(); ++i) {
      if (!(platform->atoms[i - 1] < platform->atoms[i])) std::abort();
    }
  } else if (platform.status().message().empty()) {
    std::abort();
  }
  return 0;
}
