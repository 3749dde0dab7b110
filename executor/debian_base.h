// The default base image, built locally: Debian (a suite) with Python, made
// by mmdebstrap and stored in the cache as one deterministic OCI layer. It is
// keyed like any step: a synthetic REAPI Action whose Command names the
// mmdebstrap invocation; its ActionResult lists the layer blob
// ("base.tar.gz") and its diff_id ("base.diff_id"). So a base is built once
// per cache (machine or farm) and found again by its inputs.
//
// mmdebstrap needs privileges a sandboxed step does not have (it sets up its
// own chroot); it runs on the host from an argv vector (common/process: no
// shell, a clean environment, a time limit) with a validated spec, and only
// Debian's mirror is contacted.
#ifndef PBRX_EXECUTOR_DEBIAN_BASE_H_
#define PBRX_EXECUTOR_DEBIAN_BASE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cache/action_cache.h"
#include "cache/blob_store.h"

namespace pbrx::executor {

struct DebianBaseSpec {
  std::string suite = "bookworm";
  std::string variant = "minbase";
  std::vector<std::string> include = {"python3", "python3-pip", "python3-venv"};
  int64_t mtime = 0;  // of the layer's entries (SOURCE_DATE_EPOCH)
};

struct BaseImage {
  common::Digest key = common::Digest::Empty();      // the synthetic action
  common::Digest layer = common::Digest::Empty();    // gzip tar blob
  common::Digest diff_id = common::Digest::Empty();  // uncompressed tar
  bool cached = false;
};

// OK when every field of `spec` can safely become an mmdebstrap argument:
// the suite matches [a-z][a-z0-9.+-]{0,63}, the variant is one mmdebstrap
// knows, the packages are Debian package names. INVALID_ARGUMENT naming the
// field otherwise.
absl::Status ValidateDebianBaseSpec(const DebianBaseSpec& spec);

// The Action Cache key of the base for `spec` (a synthetic Action whose
// Command names every input of the build); writes its Action and Command
// blobs to `cas`. INVALID_ARGUMENT for a spec ValidateDebianBaseSpec refuses.
absl::StatusOr<common::Digest> DebianBaseKey(const DebianBaseSpec& spec,
                                             cache::BlobStore& cas);

// The base for `spec`: from the Action Cache, else built with mmdebstrap in
// `scratch_dir` (removed afterwards). UNAVAILABLE with mmdebstrap's log tail
// if the build fails.
absl::StatusOr<BaseImage> EnsureDebianBase(const DebianBaseSpec& spec,
                                           cache::BlobStore& cas,
                                           cache::ActionCache& ac,
                                           const std::string& scratch_dir);

// The Python program the base-probe step runs: prints one JSON document with
// os-release, the interpreter, its install scheme and supported wheel tags.
extern const char kBaseProbeScript[];

}  // namespace pbrx::executor

#endif  // PBRX_EXECUTOR_DEBIAN_BASE_H_
