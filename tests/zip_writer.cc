#include "tests/zip_writer.h"

#include <archive.h>
#include <archive_entry.h>

namespace pbrx::testing_util {

bool WriteZip(const std::string& path, const std::vector<ZipEntry>& entries) {
  archive* a = archive_write_new();
  bool ok = archive_write_set_format_zip(a) == ARCHIVE_OK &&
            archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK;
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

}  // namespace pbrx::testing_util
