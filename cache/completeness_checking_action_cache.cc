#include "cache/completeness_checking_action_cache.h"

#include "absl/strings/str_cat.h"
#include "common/missing_blobs.h"
#include "common/status_macros.h"

namespace pbrx::cache {
namespace {

using build::bazel::remote::execution::v2::Directory;
using build::bazel::remote::execution::v2::Tree;

absl::Status AddDigest(const build::bazel::remote::execution::v2::Digest& proto,
                       absl::string_view what, std::vector<Digest>* out) {
  absl::StatusOr<Digest> d = Digest::FromProto(proto);
  if (!d.ok()) return common::Annotate(d.status(), what);
  out->push_back(*d);
  return absl::OkStatus();
}

absl::Status AddDirectoryFiles(const Directory& dir, std::vector<Digest>* out) {
  for (const auto& file : dir.files()) {
    RETURN_IF_ERROR(
        AddDigest(file.digest(), absl::StrCat("file ", file.name()), out));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Digest>> ReferencedBlobs(const ActionResult& result,
                                                    BlobStore& cas) {
  std::vector<Digest> out;
  for (const auto& f : result.output_files()) {
    RETURN_IF_ERROR(
        AddDigest(f.digest(), absl::StrCat("output file ", f.path()), &out));
  }
  if (result.has_stdout_digest()) {
    RETURN_IF_ERROR(AddDigest(result.stdout_digest(), "stdout digest", &out));
  }
  if (result.has_stderr_digest()) {
    RETURN_IF_ERROR(AddDigest(result.stderr_digest(), "stderr digest", &out));
  }
  for (const auto& d : result.output_directories()) {
    std::string what = absl::StrCat("output directory ", d.path());
    RETURN_IF_ERROR(AddDigest(d.tree_digest(), what, &out));
    Digest tree_digest = out.back();
    absl::StatusOr<std::string> bytes = ReadBlob(cas, tree_digest);
    if (!bytes.ok()) return common::Annotate(bytes.status(), what);
    Tree tree;
    if (!tree.ParseFromString(*bytes)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": tree blob ", tree_digest.ToString(), " is not a Tree"));
    }
    RETURN_IF_ERROR(AddDirectoryFiles(tree.root(), &out));
    for (const auto& child : tree.children())
      RETURN_IF_ERROR(AddDirectoryFiles(child, &out));
  }
  return out;
}

absl::StatusOr<ActionResult> CompletenessCheckingActionCache::Get(
    const common::Digest& action) {
  ASSIGN_OR_RETURN(ActionResult result, inner_->Get(action));
  absl::StatusOr<std::vector<Digest>> referenced =
      ReferencedBlobs(result, *cas_);
  std::vector<Digest> missing;
  if (referenced.ok()) {
    ASSIGN_OR_RETURN(missing, cas_->FindMissing(*referenced));
  }
  if (!referenced.ok() || !missing.empty()) {
    // Stale: some output is gone. Forget it so the action runs again.
    RETURN_IF_ERROR(inner_->Remove(action));
    return absl::NotFoundError(absl::StrCat(
        "action result for ", action.ToString(), " was dropped: ",
        referenced.ok() ? absl::StrCat(missing.size(),
                                       " referenced blob(s) no longer stored")
                        : std::string(referenced.status().message())));
  }
  return result;
}

absl::Status CompletenessCheckingActionCache::Update(
    const common::Digest& action, const ActionResult& result) {
  absl::StatusOr<std::vector<Digest>> referenced =
      ReferencedBlobs(result, *cas_);
  if (!referenced.ok()) {
    if (referenced.status().code() == absl::StatusCode::kNotFound) {
      return absl::FailedPreconditionError(referenced.status().message());
    }
    return referenced.status();
  }
  ASSIGN_OR_RETURN(std::vector<Digest> missing, cas_->FindMissing(*referenced));
  if (!missing.empty()) {
    return common::MissingBlobsError(
        missing, "action result references outputs not in the CAS");
  }
  return inner_->Update(action, result);
}

absl::Status CompletenessCheckingActionCache::Remove(
    const common::Digest& action) {
  return inner_->Remove(action);
}

}  // namespace pbrx::cache
