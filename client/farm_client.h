// The client side of the farm (proto/farm.proto):
//
// RunFarmBuild: `pbrx build-images --farm URL`: uploads each project (and
// the --find-links directory, constraints files, an oci: base layout) to
// the CAS through the coordinator (missing blobs only), submits one build,
// shows progress (a status line on a TTY), and as each project finishes
// copies its images' blobs from the CAS into the local OCI layout (with
// --push: hands them to the push instead, see FarmBuild::push) and prints
// the same lines as embedded mode. --json prints the coordinator's
// report, which is embedded mode's byte for byte.
//
// RunFarmStatus: `pbrx farm status`: executors, queue and step counters.
//
// Exit codes: 0 all built; 1 a project failed; 2 usage; 3 the farm could
// not be reached or failed mid-build (one line says which).
#ifndef PBRX_CLIENT_FARM_CLIENT_H_
#define PBRX_CLIENT_FARM_CLIENT_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cache/blob_store.h"
#include "client/build_images_command.h"
#include "client/cas_image_source.h"
#include "client/progress.h"
#include "common/digest.h"
#include "common/flag_parser.h"
#include "common/tls.h"
#include "coordinator/image_pipeline.h"

namespace pbrx::client {

// How the CLI authenticates to the farm: --tls-ca, --tls-cert, --tls-key
// (grpcs:// URLs) and --token-file, else the PBRX_TOKEN variable.
struct FarmCredentials {
  common::ClientTls tls;
  std::string token_file;
};

// --tls-ca, --tls-cert, --tls-key, --token-file into `c`; and their names.
void AddCredentialFlags(common::FlagParser& p, FarmCredentials* c);
const std::vector<std::string>& CredentialFlagNames();

struct FarmBuild {
  std::string farm;  // grpc:// or grpcs://HOST:PORT
  FarmCredentials credentials;
  std::vector<std::string> dirs;      // as the user named them
  coordinator::BuildOptions options;  // output_layout, base, ... resolved
  bool json = false;
  bool tty = false;  // progress == kTty
  ProgressMode progress = ProgressMode::kPlain;
  int jobs = 0;
  absl::Duration connect_timeout = absl::Seconds(10);
  std::string pulled_base_dir;  // the layout of a docker:// base
  // --push: nothing is copied into the layout; once the build is over this
  // gets the farm's CAS, every image built (ref "NAME:TAG" → its manifest
  // and referrers) and the build's exit code (0 or 1), and returns the
  // command's.
  std::function<int(cache::BlobStore& cas,
                    const std::map<std::string, FarmImage>& built,
                    int build_rc)>
      push;
  // When set with --json: the report goes here instead of to stdout.
  std::string* report_out = nullptr;
};

int RunFarmBuild(const FarmBuild& build, BuildImagesIo& io);

// `pbrx farm status [--farm URL]` (URL also from PBRX_FARM).
struct FarmStatusFlags {
  std::string farm;
  FarmCredentials credentials;
  bool json = false;
};

// `pbrx farm status`'s flags, help and examples.
void AddFarmStatusFlags(common::FlagParser& p, FarmStatusFlags* f);

int RunFarmCommand(const std::vector<std::string>& args, BuildImagesIo& io);

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_FARM_CLIENT_H_
