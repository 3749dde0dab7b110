#include "common/registry/image_reference.h"

#include <regex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace pbrx::common::registry {
namespace {

absl::Status Bad(const std::string& text, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("image reference '", text.substr(0, 200), "': ", why));
}

bool IsRegistryComponent(const std::string& c) {
  return c.find('.') != std::string::npos || c.find(':') != std::string::npos ||
         c == "localhost";
}

}  // namespace

bool IsValidTag(const std::string& tag) {
  static const std::regex kTag("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  return std::regex_match(tag, kTag);
}

std::string ImageReference::ApiHost() const {
  return registry == "docker.io" ? "registry-1.docker.io" : registry;
}

std::string ImageReference::Name() const {
  return absl::StrCat(registry, "/", repository);
}

std::string ImageReference::ToString() const {
  std::string s = Name();
  if (!tag.empty()) absl::StrAppend(&s, ":", tag);
  if (!digest.empty()) absl::StrAppend(&s, "@", digest);
  return s;
}

absl::StatusOr<ImageReference> ParseImageReference(const std::string& text) {
  static const std::regex kHost(
      "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)"
      "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?|"
      "\\[[0-9A-Fa-f:]+\\](?::[0-9]{1,5})?");
  static const std::regex kComponent("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  static const std::regex kDigest("sha256:[0-9a-f]{64}");
  if (text.empty()) return Bad(text, "empty");
  if (text.size() > 512) return Bad(text, "longer than 512 characters");
  ImageReference ref;
  std::string rest = text;
  if (size_t at = rest.find('@'); at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest.resize(at);
    if (!std::regex_match(ref.digest, kDigest)) {
      return Bad(text,
                 "the digest is not sha256: followed by 64 lowercase "
                 "hex digits");
    }
  }
  // A tag is after the last ':' that follows the last '/'.
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos &&
      (slash == std::string::npos || colon > slash)) {
    ref.tag = rest.substr(colon + 1);
    rest.resize(colon);
    if (!IsValidTag(ref.tag)) {
      return Bad(text, absl::StrCat("tag '", ref.tag,
                                    "' is not valid ([A-Za-z0-9_] then "
                                    "[A-Za-z0-9_.-], at most 128)"));
    }
  }
  std::vector<std::string> parts = absl::StrSplit(rest, '/');
  if (parts.size() > 1 && IsRegistryComponent(parts[0])) {
    if (!std::regex_match(parts[0], kHost)) {
      return Bad(text, absl::StrCat("registry '", parts[0],
                                    "' is not a host name with an optional "
                                    "port"));
    }
    ref.registry = parts[0];
    parts.erase(parts.begin());
  } else {
    ref.registry = "docker.io";
    if (parts.size() == 1) parts.insert(parts.begin(), "library");
  }
  for (const std::string& p : parts) {
    if (!std::regex_match(p, kComponent)) {
      return Bad(text, absl::StrCat("'", p,
                                    "' is not a valid repository path "
                                    "component (lowercase letters, digits, "
                                    "separators . _ __ -)"));
    }
  }
  ref.repository = absl::StrJoin(parts, "/");
  if (ref.repository.size() > 255) {
    return Bad(text, "the repository name is longer than 255 characters");
  }
  return ref;
}

}  // namespace pbrx::common::registry
