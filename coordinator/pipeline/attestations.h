// What a build says about each image it made, beside the image: an SPDX 2.3
// SBOM (the Python distributions installed, the distro packages in the
// image, the base image) and a SLSA v1 provenance statement (in-toto): the
// builder, the base, every wheel and sdist with its digest, the distro
// package sets, the project's source revision. Both are pure functions of
// the build's facts: the same build gives the same bytes (the creation time
// is SOURCE_DATE_EPOCH, every list is sorted).
#ifndef PBRX_COORDINATOR_PIPELINE_ATTESTATIONS_H_
#define PBRX_COORDINATOR_PIPELINE_ATTESTATIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/digest.h"
#include "coordinator/pipeline/package_inventory.h"

namespace pbrx::coordinator {

inline constexpr char kSpdxMediaType[] = "application/spdx+json";
inline constexpr char kInTotoMediaType[] = "application/vnd.in-toto+json";

// A Python distribution an image installs.
struct PythonDist {
  std::string file;  // the wheel's file name (PEP 427)
  common::Digest digest = common::Digest::Empty();
  // Where it came from: an index URL (credentials never kept), "find-links",
  // or "project" (the project's own wheel, built from its source).
  std::string source;
  // The sdist it was built from ("" when it came as a wheel).
  std::string sdist_file;
  common::Digest sdist = common::Digest::Empty();
};

struct ImageFacts {
  std::string image;  // the repository name, e.g. "prefix/app-base"
  common::Digest manifest = common::Digest::Empty();  // the image's
  std::string project_name, project_version;
  std::string source_url, revision;  // "" when unknown
  // The project's source tree as uploaded (a REAPI Directory digest).
  common::Digest source_root = common::Digest::Empty();
  std::string base_name, base_digest;  // base_digest "" for debian: bases
  std::vector<PythonDist> python;      // installed in this image
  DistroInventory distro;              // what the image's rootfs holds
  // The distro package sets the build asked for.
  std::vector<std::string> runtime_packages, builder_packages;
  int64_t created = 0;     // SOURCE_DATE_EPOCH
  std::string builder_id;  // e.g. "urn:pbrx:builder:farm"
};

// The distribution name and version a wheel's file name carries (PEP 427);
// both empty when `file` is not NAME-VERSION-...whl.
std::pair<std::string, std::string> WheelNameVersion(const std::string& file);

// A package URL (purl) component: everything but ASCII letters, digits and
// ".-_~" percent-encoded.
std::string PurlEncode(const std::string& s);

// The SPDX 2.3 JSON document of the image.
std::string SpdxDocument(const ImageFacts& facts);

// The in-toto statement (SLSA provenance v1 predicate) of the image.
std::string SlsaProvenance(const ImageFacts& facts);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_ATTESTATIONS_H_
