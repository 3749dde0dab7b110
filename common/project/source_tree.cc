#include "common/project/source_tree.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/beneath.h"

namespace pbrx::common::project {

absl::StatusOr<std::string> DirSourceTree::ReadFile(const std::string& relative,
                                                    int64_t max_bytes) const {
  return ReadFileBeneath(dir_, relative, max_bytes);
}

absl::Status DirSourceTree::StreamFile(const std::string& relative,
                                       const ChunkFn& chunk) const {
  absl::StatusOr<UniqueFd> fd = OpenFileBeneath(dir_, relative);
  if (!fd.ok()) return fd.status();
  std::vector<char> buf(1 << 20);
  while (true) {
    ssize_t n = read(fd->get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::InternalError(absl::StrCat(
          "cannot read ", dir_, "/", relative, ": ", std::strerror(errno)));
    }
    if (n == 0) return absl::OkStatus();
    absl::Status s = chunk(absl::string_view(buf.data(), n));
    if (!s.ok()) return s;
  }
}

bool DirSourceTree::IsFile(const std::string& relative) const {
  return OpenFileBeneath(dir_, relative).ok();
}

bool DirSourceTree::IsDir(const std::string& relative) const {
  return IsDirBeneath(dir_, relative);
}

}  // namespace pbrx::common::project
