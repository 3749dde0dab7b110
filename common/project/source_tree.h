// SourceTree: a project's files as the planner reads them, wherever they
// are: a directory on this host (DirSourceTree, embedded mode) or a tree in
// the CAS by its root digest (cache/cas_source_tree.h, the farm: nothing is
// staged to the coordinator's disk). Paths are relative, '/'-separated;
// symlinks are followed only while they stay inside the tree (as openat2
// RESOLVE_BENEATH does), and reads are capped.
#ifndef PBRX_COMMON_PROJECT_SOURCE_TREE_H_
#define PBRX_COMMON_PROJECT_SOURCE_TREE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pbrx::common::project {

class SourceTree {
 public:
  virtual ~SourceTree() = default;
  // The regular file `relative`. NOT_FOUND when nothing is there;
  // INVALID_ARGUMENT when it is not a regular file or a symlink on the way
  // leaves the tree; FAILED_PRECONDITION naming the limit when it is larger
  // than `max_bytes`.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& relative,
                                               int64_t max_bytes) const = 0;
  // The regular file `relative` in order, in pieces of at most a few MiB
  // (for files too large to hold, e.g. layers): errors as ReadFile's (no
  // cap), or the first error `chunk` returns (then nothing more is read).
  using ChunkFn = std::function<absl::Status(absl::string_view)>;
  virtual absl::Status StreamFile(const std::string& relative,
                                  const ChunkFn& chunk) const = 0;
  // Whether `relative` is a regular file / a directory (symlinks followed
  // inside the tree).
  virtual bool IsFile(const std::string& relative) const = 0;
  virtual bool IsDir(const std::string& relative) const = 0;
  // How messages name the tree (the project's directory as its user knows
  // it).
  virtual const std::string& label() const = 0;
};

class DirSourceTree : public SourceTree {
 public:
  explicit DirSourceTree(std::string dir) : dir_(dir), label_(std::move(dir)) {}
  // Messages name the tree `label` instead of its directory.
  DirSourceTree(std::string dir, std::string label)
      : dir_(std::move(dir)), label_(std::move(label)) {}
  absl::StatusOr<std::string> ReadFile(const std::string& relative,
                                       int64_t max_bytes) const override;
  absl::Status StreamFile(const std::string& relative,
                          const ChunkFn& chunk) const override;
  bool IsFile(const std::string& relative) const override;
  bool IsDir(const std::string& relative) const override;
  const std::string& label() const override { return label_; }

 private:
  std::string dir_;
  std::string label_;
};

}  // namespace pbrx::common::project

#endif  // PBRX_COMMON_PROJECT_SOURCE_TREE_H_
