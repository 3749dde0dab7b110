#include "common/project/source_tree.h"

#include "common/beneath.h"

namespace pbrx::common::project {

absl::StatusOr<std::string> DirSourceTree::ReadFile(const std::string& relative,
                                                    int64_t max_bytes) const {
  return ReadFileBeneath(dir_, relative, max_bytes);
}

bool DirSourceTree::IsFile(const std::string& relative) const {
  return OpenFileBeneath(dir_, relative).ok();
}

bool DirSourceTree::IsDir(const std::string& relative) const {
  return IsDirBeneath(dir_, relative);
}

}  // namespace pbrx::common::project
