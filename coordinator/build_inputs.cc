#include "coordinator/build_inputs.h"

#include <algorithm>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/debian_base.h"
#include "common/registry/image_reference.h"

namespace pbrx::coordinator {
namespace {

std::string Field(FieldNames names, const char* flag, const char* field) {
  return names == FieldNames::kFlags ? flag
                                     : absl::StrCat("BuildRequest.", field);
}

absl::Status Refuse(const std::string& field, const std::string& value,
                    absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " '", value, "': ", why));
}

absl::Status ValidateUrl(const std::string& field, const std::string& url) {
  static const std::regex kUrl("https?://[\\x21-\\x7e]{1,2040}");
  if (absl::StatusOr<common::SplitUrl> split =
          common::SplitUrlCredentials(field, url);
      !split.ok() || split->credential.has_value()) {
    // Not echoed: it may hold a password.
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": credentials in the URL must be split off first (",
        common::UrlHost(url), ")"));
  }
  if (!std::regex_match(url, kUrl)) {
    return Refuse(field, url,
                  "expected an http:// or https:// URL (printable ASCII, no "
                  "spaces, at most 2048 characters)");
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> ImageTags(const std::vector<std::string>& requested) {
  std::vector<std::string> tags;
  for (const std::string& t : requested) {
    if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
  }
  if (tags.empty()) tags.push_back("latest");
  return tags;
}

absl::Status ValidateImageNaming(const std::string& prefix,
                                 const std::vector<std::string>& tags,
                                 FieldNames names) {
  static const std::regex kComponent("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  static const std::regex kHost("[A-Za-z0-9.-]+(?::[0-9]+)?");
  static const std::regex kTag("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  if (!prefix.empty()) {
    if (prefix.size() > 255) {
      return Refuse(Field(names, "--prefix", "prefix"), prefix,
                    "longer than 255 characters");
    }
    std::vector<std::string> parts = absl::StrSplit(prefix, '/');
    for (size_t i = 0; i < parts.size(); ++i) {
      bool host_ok =
          i == 0 && parts.size() > 1 && std::regex_match(parts[i], kHost) &&
          (parts[i].find('.') != std::string::npos ||
           parts[i].find(':') != std::string::npos || parts[i] == "localhost");
      if (!host_ok && !std::regex_match(parts[i], kComponent)) {
        return Refuse(Field(names, "--prefix", "prefix"), prefix,
                      absl::StrCat("'", parts[i],
                                   "' is not a valid image path component "
                                   "(lowercase letters, digits, separators "
                                   ". _ -)"));
      }
    }
  }
  for (const std::string& t : tags) {
    if (!std::regex_match(t, kTag)) {
      return Refuse(Field(names, "--tag", "tags"), t,
                    "not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-], at most "
                    "128)");
    }
  }
  return absl::OkStatus();
}

absl::Status ExtractIndexCredentials(BuildInputs* in, FieldNames names) {
  auto extract = [&](const std::string& field, std::string* url) {
    absl::StatusOr<common::SplitUrl> split =
        common::SplitUrlCredentials(field, *url);
    if (!split.ok()) return split.status();
    *url = split->url;
    if (split->credential.has_value())
      in->index_credentials.push_back(*split->credential);
    return absl::OkStatus();
  };
  if (absl::Status s =
          extract(Field(names, "--index-url", "index_url"), &in->index_url);
      !s.ok())
    return s;
  for (std::string& u : in->extra_index_urls) {
    if (absl::Status s =
            extract(Field(names, "--extra-index-url", "extra_index_urls"), &u);
        !s.ok())
      return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateBaseReference(const std::string& base, FieldNames names) {
  const std::string base_field = Field(names, "--base", "base");
  if (!absl::StartsWith(base, "docker://")) {
    return Refuse(base_field, base.substr(0, 200),
                  "expected docker://REGISTRY/REPOSITORY[:TAG][@sha256:HEX]");
  }
  absl::StatusOr<common::registry::ImageReference> ref =
      common::registry::ParseImageReference(base.substr(9));
  if (!ref.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(base_field, ": ", ref.status().message()));
  }
  return absl::OkStatus();
}

absl::Status ValidatePlatform(const std::string& platform,
                              const std::string& base, FieldNames names) {
  if (platform.empty()) return absl::OkStatus();
  const std::string field = Field(names, "--platform", "platform");
  static const std::regex kPlatform(
      "[a-z0-9]{1,32}/[a-z0-9_]{1,32}(/[a-z0-9]{1,32})?");
  if (!std::regex_match(platform, kPlatform)) {
    return Refuse(field, platform.substr(0, 200),
                  "expected OS/ARCH[/VARIANT] (lowercase letters, digits; "
                  "e.g. linux/arm64/v8)");
  }
  if (absl::StartsWith(base, "debian:") && platform != "linux/amd64") {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " ", platform,
        " applies to oci: and docker:// bases (a debian: base is built for "
        "linux/amd64)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateBuildInputs(const BuildInputs& in, FieldNames names) {
  const std::string credentials_field =
      Field(names, "--index-url", "index_credentials");
  if (in.index_credentials.size() > common::kMaxCredentials) {
    return absl::InvalidArgumentError(
        absl::StrCat(credentials_field, ": more than ", common::kMaxCredentials,
                     " index credentials"));
  }
  for (const common::HostCredential& c : in.index_credentials) {
    if (absl::Status s = common::ValidateCredential(credentials_field, c);
        !s.ok())
      return s;
  }
  const std::string base_field = Field(names, "--base", "base");
  if (absl::StartsWith(in.base, "debian:")) {
    common::base::DebianBaseSpec spec;
    spec.suite = in.base.substr(7);
    if (absl::Status s = common::base::ValidateDebianBaseSpec(spec); !s.ok()) {
      return Refuse(base_field, in.base, s.message());
    }
  } else if (absl::StartsWith(in.base, "docker://")) {
    if (absl::Status s = ValidateBaseReference(in.base, names); !s.ok())
      return s;
    // The client resolves a tag before the build: what reaches a build is
    // pinned, so that the image records exactly what it was built on.
    if (!absl::StrContains(in.base, "@sha256:")) {
      return Refuse(base_field, in.base,
                    "a docker:// base reaches a build pinned to a digest "
                    "(REF@sha256:HEX), its layout uploaded as base_layout");
    }
  } else if (names == FieldNames::kFlags) {
    if (!absl::StartsWith(in.base, "oci:") || in.base.size() <= 4) {
      return Refuse(base_field, in.base,
                    "expected debian:SUITE, oci:DIR[:REF] or docker://REF");
    }
  } else if (!absl::StartsWith(in.base, "oci:") || in.base.size() > 4096 ||
             std::any_of(in.base.begin(), in.base.end(), [](char c) {
               return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
             })) {
    // After "oci:" only the client's name for the layout (never a path
    // here: the layout itself is uploaded as base_layout).
    return Refuse(base_field, in.base.substr(0, 200),
                  "expected debian:SUITE, docker://REF@sha256:HEX, or "
                  "oci:[NAME] with the layout uploaded as base_layout (NAME: "
                  "at most 4096 printable characters)");
  }
  if (absl::Status s = ValidatePlatform(in.platform, in.base, names); !s.ok())
    return s;
  if (!in.mirror.empty() || !in.base_release.empty()) {
    const std::string mirror_field = Field(names, "--mirror", "mirror");
    if (!in.base_release.empty() && !absl::StartsWith(in.base, "debian:")) {
      return absl::InvalidArgumentError(
          absl::StrCat(Field(names, "--base", "base_release"),
                       " applies to debian: bases (the base is ",
                       in.base.substr(0, 200), ")"));
    }
    // (On an imported base the mirror gives its apt/apk steps their
    // sources; its rules are the same.)
    common::base::DebianBaseSpec spec;
    spec.suite =
        absl::StartsWith(in.base, "debian:") ? in.base.substr(7) : "bookworm";
    spec.mirror = in.mirror;
    if (absl::Status s = common::base::ValidateDebianMirror(in.mirror);
        !s.ok()) {
      // The message never echoes a mirror that holds a password.
      return absl::InvalidArgumentError(
          absl::StrCat(mirror_field, ": ", s.message()));
    }
    spec.release = in.base_release;
    if (absl::Status s = common::base::ValidateDebianBaseSpec(spec); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          Field(names, "--base", "base_release"), ": ", s.message()));
    }
  }
  if (!in.base_ref.empty()) {
    static const std::regex kRef("[A-Za-z0-9][A-Za-z0-9._:@+/-]{0,254}");
    if (!std::regex_match(in.base_ref, kRef)) {
      return Refuse(Field(names, "--base", "base_ref"), in.base_ref,
                    "not an image reference name");
    }
  }
  absl::Status naming = ValidateImageNaming(in.prefix, in.tags, names);
  if (!naming.ok()) return naming;
  if (!in.index_url.empty()) {
    absl::Status s =
        ValidateUrl(Field(names, "--index-url", "index_url"), in.index_url);
    if (!s.ok()) return s;
  }
  for (const std::string& u : in.extra_index_urls) {
    absl::Status s =
        ValidateUrl(Field(names, "--extra-index-url", "extra_index_urls"), u);
    if (!s.ok()) return s;
  }
  for (const std::string& h : in.trusted_hosts) {
    static const std::regex kHostPort(
        "[A-Za-z0-9][A-Za-z0-9.-]{0,252}(:[0-9]{1,5})?");
    if (!std::regex_match(h, kHostPort)) {
      return Refuse(Field(names, "--trusted-host", "trusted_hosts"), h,
                    "not a HOST or HOST:PORT (letters, digits, . -)");
    }
  }
  static const std::regex kVersion("[A-Za-z0-9.+!_-]{0,64}");
  if (!std::regex_match(in.pbr_version, kVersion)) {
    return Refuse(Field(names, "PBR_VERSION", "pbr_version"), in.pbr_version,
                  "not a version (letters, digits, . + ! _ -, at most 64)");
  }
  constexpr int64_t kYear9999 = 253402300799;
  if (in.source_date_epoch < 0 || in.source_date_epoch > kYear9999) {
    return Refuse(Field(names, "SOURCE_DATE_EPOCH", "source_date_epoch"),
                  absl::StrCat(in.source_date_epoch),
                  "expected seconds since 1970 up to the year 9999");
  }
  return absl::OkStatus();
}

}  // namespace pbrx::coordinator
