// libFuzzer target for layer extraction: the input is a layer (tar, plain
// or compressed) extracted into a directory. Besides "never crash": nothing
// appears outside it (HostGuard), the only device nodes in it are overlayfs
// whiteouts (0:0 character devices), and errors carry a message.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/beneath.h"
#include "executor/layer_extract.h"
#include "tools/fuzz/host_guard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pbrx::fuzz::HostGuard* guard = new pbrx::fuzz::HostGuard();
  std::string dest = guard->FreshTarget();
  std::string layer = guard->base() + "/layer";
  std::ofstream(layer, std::ios::binary)
      .write(reinterpret_cast<const char*>(data), size);
  pbrx::executor::LayerLimits limits;
  limits.max_bytes = 64 << 20;
  limits.max_entries = 10000;
  // Owners stay as they are (0 in, 0 out): Bazel's sandbox maps only this
  // process's own id, and a chown to any other fails the entry.
  limits.ids.first = 0;
  absl::Status s = pbrx::executor::ExtractLayerFile(layer, dest, limits);
  guard->Check("layer");
  pbrx::fuzz::Verbose(s);
  if (!s.ok() && s.message().empty()) std::abort();
  pbrx::common::WalkTree(dest, [](const struct stat& st) {
    if (S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
      std::abort();
    if (S_ISCHR(st.st_mode) && st.st_rdev != makedev(0, 0)) std::abort();
  });
  return 0;
}
