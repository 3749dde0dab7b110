// WriteZip: writes a zip archive (a wheel, in tests) with libarchive, entry
// by entry in the given order, so tests can build well-formed and hostile
// wheels alike (symlinks, odd modes, duplicate names).
#ifndef PBRX_TESTS_ZIP_WRITER_H_
#define PBRX_TESTS_ZIP_WRITER_H_

#include <optional>
#include <string>
#include <vector>

namespace pbrx::testing_util {

struct ZipEntry {
  std::string name;
  std::string content;  // the link target for a symlink
  int perm = 0644;
  bool symlink = false;
};

// Returns false when libarchive refuses to write the archive.
bool WriteZip(const std::string& path, const std::vector<ZipEntry>& entries);
// The same archive's bytes; nullopt when libarchive refuses.
std::optional<std::string> ZipBytes(const std::vector<ZipEntry>& entries);

}  // namespace pbrx::testing_util

#endif  // PBRX_TESTS_ZIP_WRITER_H_
