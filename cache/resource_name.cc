#include "cache/resource_name.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace pbrx::cache {
namespace {

bool IsReserved(absl::string_view s) {
  return s == "blobs" || s == "uploads" || s == "actions" ||
         s == "actionResults" || s == "operations" || s == "capabilities" ||
         s == "compressed-blobs";
}

absl::Status ValidateSegments(const std::vector<absl::string_view>& segments,
                              absl::string_view whole) {
  for (absl::string_view s : segments) {
    if (s.empty() || s == "." || s == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "instance name '", whole, "' has an empty, '.' or '..' segment"));
    }
    if (IsReserved(s)) {
      return absl::InvalidArgumentError(
          absl::StrCat("instance name '", whole, "' uses the reserved word '",
                       s, "' as a segment"));
    }
  }
  return absl::OkStatus();
}

// Parses the part after the instance name, starting at `blobs`:
// blobs/{hash}/{size}[/{filename}...].
absl::StatusOr<common::Digest> ParseBlobPart(
    const std::vector<absl::string_view>& parts, size_t blobs_index,
    absl::string_view whole) {
  if (parts.size() < blobs_index + 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resource name '", whole, "' ends before blobs/{hash}/{size}"));
  }
  absl::StatusOr<common::Digest> digest = common::Digest::Parse(
      absl::StrCat(parts[blobs_index + 1], "/", parts[blobs_index + 2]));
  if (!digest.ok()) {
    return common::Annotate(digest.status(),
                            absl::StrCat("resource name '", whole, "'"));
  }
  return digest;
}

}  // namespace

absl::Status ValidateInstanceName(absl::string_view name) {
  if (name.empty()) return absl::OkStatus();
  return ValidateSegments(absl::StrSplit(name, '/'), name);
}

absl::StatusOr<ResourceName> ParseReadResourceName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "compressed-blobs") {
      return absl::UnimplementedError(
          absl::StrCat("resource name '", name,
                       "': compressed blobs are not supported by this server"));
    }
    if (parts[i] != "blobs") continue;
    std::vector<absl::string_view> instance(parts.begin(), parts.begin() + i);
    ResourceName out;
    out.instance_name = absl::StrJoin(instance, "/");
    RETURN_IF_ERROR(ValidateSegments(instance, out.instance_name));
    ASSIGN_OR_RETURN(out.digest, ParseBlobPart(parts, i, name));
    return out;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("resource name '", name,
                   "' is not of the form {instance}/blobs/{hash}/{size}"));
}

absl::StatusOr<ResourceName> ParseWriteResourceName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] != "uploads") continue;
    std::vector<absl::string_view> instance(parts.begin(), parts.begin() + i);
    ResourceName out;
    out.instance_name = absl::StrJoin(instance, "/");
    RETURN_IF_ERROR(ValidateSegments(instance, out.instance_name));
    if (parts.size() < i + 3 || parts[i + 1].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "resource name '", name, "' lacks uploads/{uuid}/blobs/..."));
    }
    out.upload_id = std::string(parts[i + 1]);
    if (parts[i + 2] == "compressed-blobs") {
      return absl::UnimplementedError(
          absl::StrCat("resource name '", name,
                       "': compressed blobs are not supported by this server"));
    }
    if (parts[i + 2] != "blobs") {
      return absl::InvalidArgumentError(absl::StrCat(
          "resource name '", name,
          "': expected 'blobs' after the upload id, got '", parts[i + 2], "'"));
    }
    ASSIGN_OR_RETURN(out.digest, ParseBlobPart(parts, i + 2, name));
    return out;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "resource name '", name,
      "' is not of the form {instance}/uploads/{uuid}/blobs/{hash}/{size}"));
}

}  // namespace pbrx::cache
