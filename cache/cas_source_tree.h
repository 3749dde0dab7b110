// CasSourceTree: a SourceTree (common/project/source_tree.h) over a REAPI
// Directory tree in the CAS, by its root digest: what the farm's planner
// reads a project through, so nothing is staged to the coordinator's disk.
// Paths resolve as openat2(RESOLVE_BENEATH) resolves them on disk, with the
// same messages as common/beneath.h's (the label stands for the directory):
// symlinks are followed while they stay in the tree (at most 40), an
// absolute target or a ".." above the root leaves it and is refused.
// Directory messages read are kept for the tree's lifetime. Thread-safe.
#ifndef PBRX_CACHE_CAS_SOURCE_TREE_H_
#define PBRX_CACHE_CAS_SOURCE_TREE_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/blob_store.h"
#include "common/digest.h"
#include "common/project/source_tree.h"

namespace pbrx::cache {

class CasSourceTree : public common::project::SourceTree {
 public:
  // `cas` must outlive the tree.
  CasSourceTree(BlobStore* cas, common::Digest root, std::string label)
      : cas_(cas), root_(std::move(root)), label_(std::move(label)) {}

  absl::StatusOr<std::string> ReadFile(const std::string& relative,
                                       int64_t max_bytes) const override;
  absl::Status StreamFile(const std::string& relative,
                          const ChunkFn& chunk) const override;
  bool IsFile(const std::string& relative) const override;
  bool IsDir(const std::string& relative) const override;
  const std::string& label() const override { return label_; }

 private:
  enum class Kind { kFile, kDir };
  struct Node {
    Kind kind = Kind::kDir;
    common::Digest digest = common::Digest::Empty();
  };
  absl::StatusOr<Node> Resolve(const std::string& relative) const;
  absl::StatusOr<build::bazel::remote::execution::v2::Directory> ReadDir(
      const common::Digest& d) const;

  BlobStore* cas_;
  const common::Digest root_;
  const std::string label_;
  mutable absl::Mutex mu_;
  mutable std::map<std::string, build::bazel::remote::execution::v2::Directory>
      dirs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_CAS_SOURCE_TREE_H_
