#include "tests/zip_writer.h"

#include <archive.h>
#include <archive_entry.h>

#include <functional>

namespace pbrx::testing_util {
namespace {

// Writes `entries` as a zip through `open` (which opens `a` on a file or a
// callback).
bool WriteEntries(const std::vector<ZipEntry>& entries,
                  const std::function<bool(archive*)>& open) {
  archive* a = archive_write_new();
  bool ok = archive_write_set_format_zip(a) == ARCHIVE_OK && open(a);
  for (const ZipEntry& e : entries) {
    if (!ok) break;
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.name.c_str());
    if (e.symlink) {
      archive_entry_set_filetype(ae, AE_IFLNK);
      archive_entry_set_symlink(ae, e.content.c_str());
      archive_entry_set_perm(ae, 0777);
    } else {
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_perm(ae, e.perm);
      archive_entry_set_size(ae, static_cast<la_int64_t>(e.content.size()));
    }
    ok = archive_write_header(a, ae) == ARCHIVE_OK;
    if (ok && !e.symlink && !e.content.empty()) {
      ok = archive_write_data(a, e.content.data(), e.content.size()) ==
           static_cast<la_ssize_t>(e.content.size());
    }
    archive_entry_free(ae);
  }
  ok = archive_write_close(a) == ARCHIVE_OK && ok;
  archive_write_free(a);
  return ok;
}

la_ssize_t AppendTo(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

}  // namespace

bool WriteZip(const std::string& path, const std::vector<ZipEntry>& entries) {
  return WriteEntries(entries, [&](archive* a) {
    return archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK;
  });
}

std::optional<std::string> ZipBytes(const std::vector<ZipEntry>& entries) {
  std::string out;
  bool ok = WriteEntries(entries, [&](archive* a) {
    // No padding to blocks: the bytes are the zip itself.
    archive_write_set_bytes_in_last_block(a, 1);
    return archive_write_open(a, &out, nullptr, AppendTo, nullptr) ==
           ARCHIVE_OK;
  });
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace pbrx::testing_util
