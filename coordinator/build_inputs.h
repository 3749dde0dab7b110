// What a build may be asked, checked where it enters: the `pbrx` flags and
// the fields of a BuildRequest go through the same function before any of
// them becomes an argument, an environment variable or a path. Every refusal
// is INVALID_ARGUMENT naming the field (the flag, or BuildRequest.FIELD),
// the value and the rule.
//
// It checks shapes only: whether a layout or an index exists is found out
// later, where they are used.
#ifndef PBRX_COORDINATOR_BUILD_INPUTS_H_
#define PBRX_COORDINATOR_BUILD_INPUTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/credentials.h"

namespace pbrx::coordinator {

struct BuildInputs {
  std::string
      base;  // debian:SUITE | oci:DIR[:REF] (CLI) | oci:[NAME] (request)
             // | docker://REF@sha256:HEX (pulled by the client)
  std::string base_ref;  // a BuildRequest's ref into its uploaded layout
  std::string prefix;
  std::vector<std::string> tags;
  std::string index_url;
  std::vector<std::string> extra_index_urls;
  std::string pbr_version;
  int64_t source_date_epoch = 0;
  std::vector<std::string> trusted_hosts;  // pip --trusted-host HOST[:PORT]
  // Split off the index URLs by ExtractIndexCredentials (or given beside).
  std::vector<common::HostCredential> index_credentials;
  // A debian: base's mirror ("" = Debian's) and the archive state it is
  // keyed by (client/debian_release.h; "" = unknown).
  std::string mirror;
  std::string base_release;
  // OS/ARCH[/VARIANT] of an oci:/docker:// base ("" = linux/amd64).
  std::string platform;
};

// How refusals name the fields.
enum class FieldNames { kFlags, kBuildRequest };

// Moves the userinfo of index_url and extra_index_urls into
// index_credentials (common/credentials.h), so that no later step, message
// or Action sees it. INVALID_ARGUMENT naming the field, never echoing a
// password. Call before ValidateBuildInputs.
absl::Status ExtractIndexCredentials(BuildInputs* inputs, FieldNames names);

// Every field, index_credentials included (at most 16, each as
// common::ValidateCredential wants); an index URL that still has userinfo
// is refused.
absl::Status ValidateBuildInputs(const BuildInputs& inputs, FieldNames names);

// A `docker://REGISTRY/REPOSITORY[:TAG][@sha256:HEX]` base by the
// distribution grammar (common/registry/image_reference.h), before the
// client pulls it. INVALID_ARGUMENT naming the field and the part.
absl::Status ValidateBaseReference(const std::string& base, FieldNames names);

// `platform` ("" = the default, linux/amd64) as OS/ARCH[/VARIANT], and
// only with an oci: or docker:// `base`. INVALID_ARGUMENT naming the field.
absl::Status ValidatePlatform(const std::string& platform,
                              const std::string& base, FieldNames names);

// The tags every image gets: "latest" only when none are requested (as ko
// and docker buildx do), else the requested ones in order without repeats.
std::vector<std::string> ImageTags(const std::vector<std::string>& requested);

// The image-naming part alone (pbrx plan): prefix and tags.
absl::Status ValidateImageNaming(const std::string& prefix,
                                 const std::vector<std::string>& tags,
                                 FieldNames names);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_BUILD_INPUTS_H_
