// libFuzzer target for reading an OCI image layout (index, manifest,
// config, diff_ids). The input is parts separated by "\n@@\n": part 0 is
// index.json, part i >= 1 the blob blobs/sha256/<sha256 of part i>. Before
// that, "@Di" in a part becomes "sha256:<hex of part i>" and "@Si" its size
// (i > the part's own number, so the fuzzer reaches manifests and configs
// without inverting sha256). Besides "never crash": an image read has its
// layer files inside the layout and errors carry a message.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/oci/layout_reader.h"
#include "common/sha256.h"
#include "tools/fuzz/host_guard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace oci = pbrx::common::oci;
  static pbrx::fuzz::HostGuard* guard = new pbrx::fuzz::HostGuard();
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts = absl::StrSplit(text, "\n@@\n");
  if (parts.size() > 16) return 0;
  std::vector<std::string> hex(parts.size());
  for (size_t i = parts.size(); i-- > 0;) {
    std::vector<std::pair<std::string, std::string>> subst;
    for (size_t j = parts.size(); j-- > i + 1;) {
      subst.emplace_back(absl::StrCat("@D", j), "sha256:" + hex[j]);
      subst.emplace_back(absl::StrCat("@S", j),
                         absl::StrCat(parts[j].size()));
    }
    parts[i] = absl::StrReplaceAll(parts[i], subst);
    hex[i] = pbrx::common::Sha256::HexOf(parts[i]);
  }
  std::string dir = guard->FreshTarget();
  std::ofstream(dir + "/oci-layout") << "{\"imageLayoutVersion\":\"1.0.0\"}";
  std::ofstream(dir + "/index.json", std::ios::binary) << parts[0];
  mkdir((dir + "/blobs").c_str(), 0755);
  mkdir((dir + "/blobs/sha256").c_str(), 0755);
  for (size_t i = 1; i < parts.size(); ++i) {
    std::ofstream(dir + "/blobs/sha256/" + hex[i], std::ios::binary)
        << parts[i];
  }
  oci::OciReadOptions options;
  options.max_json_bytes = 1 << 20;
  options.max_layer_bytes = 16 << 20;
  auto image = oci::ReadOciImage(dir, "", options);
  guard->Check();
  pbrx::fuzz::Verbose(image.status());
  if (image.ok()) {
    for (const oci::OciImageLayer& l : image->layers) {
      if (!absl::StartsWith(l.path, dir + "/blobs/sha256/")) std::abort();
    }
  } else if (image.status().message().empty()) {
    std::abort();
  }
  return 0;
}
