// Moving directory trees between the local filesystem and the CAS as REAPI
// Merkle trees (Directory messages, entries sorted by name):
//   UploadDirectory: a local tree -> CAS blobs, returns the root digest
//     (what a client does for a project's sources, and an executor for
//     output directories);
//   StageDirectory: a root digest -> files under a local directory (what an
//     executor does with an action's input root).
// Symlinks are kept as symlinks; staging refuses names with '/', "." or
// "..", and symlink targets that are absolute or climb out of the tree.
#ifndef PBRX_CACHE_DIRECTORY_TREE_H_
#define PBRX_CACHE_DIRECTORY_TREE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/blob_store.h"
#include "common/missing_blobs.h"
#include "common/status_macros.h"

namespace pbrx::cache {

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

// The largest message blob (Action, Command, Directory, Tree) read whole:
// a client chooses these digests, and a bigger one is refused before a
// byte is read.
inline constexpr int64_t kMaxMessageBlobBytes = 4 << 20;

// INVALID_ARGUMENT "the WHAT HASH/SIZE is SIZE bytes, more than the
// 4194304 a message blob may have" when `d` is over kMaxMessageBlobBytes.
absl::Status CheckMessageBlobSize(const common::Digest& d,
                                  absl::string_view what);

// Reads and parses a small message blob (Action, Command, Directory, ...).
// A missing blob is FAILED_PRECONDITION with a MISSING violation ("reading
// the WHAT"); bytes that do not parse, or a blob over kMaxMessageBlobBytes,
// are INVALID_ARGUMENT.
template <typename M>
absl::StatusOr<M> ReadProtoBlob(
    cache::BlobStore& cas,
    const build::bazel::remote::execution::v2::Digest& proto,
    absl::string_view what) {
  absl::StatusOr<common::Digest> d = common::Digest::FromProto(proto);
  if (!d.ok()) return common::Annotate(d.status(), what);
  if (absl::Status s = CheckMessageBlobSize(*d, what); !s.ok()) return s;
  absl::StatusOr<std::string> bytes = cache::ReadBlob(cas, *d);
  if (bytes.status().code() == absl::StatusCode::kNotFound)
    return common::MissingBlobsError({*d}, absl::StrCat("reading the ", what));
  if (!bytes.ok()) return bytes.status();
  M m;
  if (!m.ParseFromString(*bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", d->ToString(), " does not parse"));
  }
  return m;
}

// `known` (optional, e.g. a lease's copy) when it is the message `proto`
// names (it serializes to bytes of that digest); else read as ReadProtoBlob.
template <typename M>
absl::StatusOr<M> KnownOrReadProtoBlob(
    cache::BlobStore& cas,
    const build::bazel::remote::execution::v2::Digest& proto, const M* known,
    absl::string_view what) {
  if (known != nullptr) {
    absl::StatusOr<common::Digest> d = common::Digest::FromProto(proto);
    if (d.ok() && common::Digest::Of(known->SerializeAsString()) == *d)
      return *known;
  }
  return ReadProtoBlob<M>(cas, proto, what);
}

// Whether `relative` (a path already checked to be relative, without "."
// or ".." components) can be reached beneath the directory `root` without
// passing through a symlink: every component but the last is opened from
// its parent's descriptor with O_NOFOLLOW. OK; NOT_FOUND when a component
// does not exist; INVALID_ARGUMENT naming the first component that is a
// symlink (or not a directory). The last component itself may be anything
// (a symlink is then recorded as one, never followed).
absl::Status CheckBeneath(const std::string& root, const std::string& relative);

// Copies one CAS blob to a file (streamed; replaces the file).
absl::Status BlobToFile(cache::BlobStore& cas, const common::Digest& digest,
                        const std::string& path);

// Uploads local files with one FindMissing for all, the missing small ones
// in batch writes; returns their digests in order. FAILED_PRECONDITION when
// a file changes while it is uploaded.
absl::StatusOr<std::vector<common::Digest>> UploadFiles(
    absl::Span<const std::string> paths, cache::BlobStore& cas);

// Uploads one local file; returns its digest.
absl::StatusOr<common::Digest> UploadFile(const std::string& path,
                                          cache::BlobStore& cas);

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_DIRECTORY_TREE_H_
