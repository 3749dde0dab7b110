// Moving directory trees between the local filesystem and the CAS as REAPI
// Merkle trees (Directory messages, entries sorted by name):
//   UploadDirectory: a local tree -> CAS blobs, returns the root digest
//     (what a client does for a project's sources, and an executor for
//     output directories);
//   StageDirectory: a root digest -> files under a local directory (what an
//     executor does with an action's input root).
// Symlinks are kept as symlinks; staging refuses names with '/', "." or
// "..", and symlink targets that are absolute or climb out of the tree.
#ifndef PBRX_EXECUTOR_INPUT_TREE_H_
#define PBRX_EXECUTOR_INPUT_TREE_H_

#include <string>

#include "absl/status/statusor.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/blob_store.h"

namespace pbrx::executor {

struct UploadedTree {
  common::Digest root = common::Digest::Empty();
  // The same tree as one Tree message (for ActionResult output directories).
  build::bazel::remote::execution::v2::Tree tree;
  int64_t files = 0;
  int64_t bytes = 0;
};

// Uploads `dir` (missing blobs only). INVALID_ARGUMENT for file types REAPI
// cannot express (sockets, devices, FIFOs).
absl::StatusOr<UploadedTree> UploadDirectory(const std::string& dir,
                                             cache::BlobStore& cas);

// Writes the tree `root` into `dest` (which must exist). FAILED_PRECONDITION
// with MISSING details (common/missing_blobs.h) if blobs are absent;
// INVALID_ARGUMENT for unsafe names or symlinks.
absl::Status StageDirectory(const common::Digest& root, cache::BlobStore& cas,
                            const std::string& dest);

// Copies one CAS blob to a file (streamed; replaces the file).
absl::Status BlobToFile(cache::BlobStore& cas, const common::Digest& digest,
                        const std::string& path);

// Uploads one local file; returns its digest.
absl::StatusOr<common::Digest> UploadFile(const std::string& path,
                                          cache::BlobStore& cas);

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_INPUT_TREE_H_
