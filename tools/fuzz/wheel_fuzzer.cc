// libFuzzer target for the wheel installer: the input is a wheel (a zip)
// installed into a staging root. Besides "never crash": nothing appears
// outside the staging root (HostGuard), every file reported installed is
// under a scheme directory and exists in the staging root, and errors carry
// a message.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "common/wheel/wheel_installer.h"
#include "tools/fuzz/host_guard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace wh = pbrx::common::wheel;
  static pbrx::fuzz::HostGuard* guard = new pbrx::fuzz::HostGuard();
  std::string stage = guard->FreshTarget();
  std::string wheel = guard->base() + "/demo-1.0-py3-none-any.whl";
  std::ofstream(wheel, std::ios::binary)
      .write(reinterpret_cast<const char*>(data), size);
  wh::InstallScheme scheme;
  scheme.purelib = "/usr/lib/python3/dist-packages";
  scheme.platlib = "/usr/lib/python3/dist-packages";
  scheme.headers = "/usr/include/python3/demo";
  scheme.scripts = "/usr/bin";
  scheme.data = "/usr";
  scheme.python = "/usr/bin/python3";
  wh::WheelLimits limits;
  limits.max_total_bytes = 64 << 20;
  limits.max_entry_bytes = 32 << 20;
  auto installed = wh::InstallWheel(wheel, scheme, stage, limits);
  guard->Check("demo-1.0-py3-none-any.whl");
  pbrx::fuzz::Verbose(installed.status());
  if (installed.ok()) {
    for (const std::string& f : installed->files) {
      if (!absl::StartsWith(f, "/usr/")) std::abort();
      struct stat st;
      if (lstat((stage + f).c_str(), &st) != 0) std::abort();
    }
  } else if (installed.status().message().empty()) {
    std::abort();
  }
  return 0;
}
