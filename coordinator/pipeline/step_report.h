// What a build reports (the --json report, progress events, the
// coordinator's metrics): each step it ran or found cached, and each image
// reference it made.
#ifndef PBRX_COORDINATOR_PIPELINE_STEP_REPORT_H_
#define PBRX_COORDINATOR_PIPELINE_STEP_REPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/digest.h"

namespace pbrx::coordinator {

struct StepReport {
  std::string kind;
  std::string name;
  bool cached = false;
  double seconds = 0;
  std::string action;  // action digest "hash/size"
  // Another build ran the same step at the same moment; this one waited for
  // it (not cached, not run on this build's behalf).
  bool joined = false;
  // The command ran and failed (non-zero exit, or a limit killed it).
  bool failed = false;
  // What the cache key is made of, so a miss can be explained: the command
  // line, the platform properties and the input root digest.
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> platform;
  std::string input_root;
};

struct BuiltImage {
  std::string ref;
  std::string manifest_digest;  // "sha256:..."
  int64_t size = 0;
  // The image's own blobs in the output layout (its layers are step
  // outputs, already in the CAS).
  common::Digest manifest = common::Digest::Empty();
  common::Digest config = common::Digest::Empty();
  // The artifact manifests that refer to it (OCI 1.1 subject): its SPDX
  // SBOM and its SLSA provenance; Empty when not made.
  common::Digest sbom = common::Digest::Empty();
  common::Digest provenance = common::Digest::Empty();
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_STEP_REPORT_H_
