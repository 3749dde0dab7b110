// Pushing images from an OCI layout to registries: the part `pbrx
// push-images` and `pbrx build-images --push` share. An image is a
// repository name (registry host first, as --prefix made it) and the tags
// it has; each tag's manifest is read from an ImageSource (an OCI layout,
// the farm's CAS), and common/registry/image_pusher.h sends what the
// registry lacks, reading only those blobs from the source. The registry flags
// (--insecure-registry, --registry-ca,
// --push-jobs) are parsed here for both commands.
#ifndef PBRX_CLIENT_IMAGE_PUSH_H_
#define PBRX_CLIENT_IMAGE_PUSH_H_

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/flag_parser.h"
#include "common/json_writer.h"
#include "common/registry/credential_helper.h"
#include "common/registry/curl_transport.h"
#include "common/registry/image_pusher.h"
#include "common/registry/registry_access.h"

namespace pbrx::client {

struct RegistryFlags {
  std::vector<std::string> insecure_hosts;
  std::string ca_file;
  int parallel = 4;  // blobs in flight per image
  // Where the repositories each blob was pushed to are remembered, one
  // file per registry (as docker's v2 metadata), so a later push can mount
  // a blob from another repository instead of uploading it. "" = nowhere.
  std::string state_dir;
};

// --insecure-registry HOST[:PORT] (repeatable), --registry-ca FILE,
// --push-jobs N, into `flags`.
void AddRegistryFlags(common::FlagParser& p, RegistryFlags* flags);
const std::vector<std::string>& RegistryFlagNames();

struct LayoutImage {
  std::string name;               // e.g. "localhost:5000/team/app-base"
  std::vector<std::string> tags;  // as in the layout's refs NAME:TAG
};

struct PushedImage {
  std::string name;
  std::vector<std::string> tags;
  common::Digest manifest = common::Digest::Empty();
  common::registry::PushStats stats;
};

// What a push needs of the image one ref names.
struct TagImage {
  common::Digest manifest = common::Digest::Empty();
  common::registry::PushableImage content;
};

// Where the images to push come from: an OCI layout (push-images, an
// embedded --push build) or the farm's CAS (a farm --push build,
// client/cas_image_source.h). Thread-compatible.
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // The image ref "NAME:TAG" names. NOT_FOUND when there is none.
  virtual absl::StatusOr<TagImage> Read(const std::string& ref) = 0;
  // The blobs, opened only for those a registry lacks.
  virtual common::registry::BlobSourceProvider& blobs() = 0;
};

// The images of the OCI layout `dir` (blobs checked to be there with their
// sizes; the registry verifies their digests).
class LayoutImageSource : public ImageSource {
 public:
  explicit LayoutImageSource(std::string dir);
  absl::StatusOr<TagImage> Read(const std::string& ref) override;
  common::registry::BlobSourceProvider& blobs() override;

 private:
  class Blobs : public common::registry::BlobSourceProvider {
   public:
    explicit Blobs(const std::string& dir) : dir_(dir) {}
    absl::StatusOr<common::registry::BlobSource> Open(
        const common::Digest& d) override;

   private:
    const std::string& dir_;
  };
  std::string dir_;
  Blobs blobs_;
};

// What a push needs of the manifest `bytes` (`what` names it): its media
// type (an OCI manifest when it names none), its artifactType, its config
// and layer digests (sha256, with sizes). INVALID_ARGUMENT for a manifest
// that is not one.
absl::StatusOr<common::registry::PushableImage> PushableManifest(
    std::string bytes, const std::string& what);

// Pushes every tag of `image` from `source`; tags that name the same
// manifest go up together. Errors name the image (NOT_FOUND for a tag the
// source lacks).
absl::StatusOr<std::vector<PushedImage>> PushImageTags(
    common::registry::RegistryAccess& access, ImageSource& source,
    const LayoutImage& image, const RegistryFlags& flags);

// Pushes `images` (in order) from `source` over libcurl; each pushed image
// goes to `pushed`, each failure to `errors` (and on to the next image).
void PushImages(ImageSource& source, const std::vector<LayoutImage>& images,
                const RegistryFlags& flags, std::vector<PushedImage>* pushed,
                std::vector<std::string>* errors);

// The images of refs "NAME:TAG" (in the order names first appear).
std::vector<LayoutImage> ImagesOfRefs(const std::vector<std::string>& refs);

// The --json build report with "pushed" (WritePushedJson) and
// "push_errors" members added at its end.
std::string ReportWithPushes(const std::string& report,
                             const std::vector<PushedImage>& pushed,
                             const std::vector<std::string>& errors);

// "NAME:TAG@sha256:DIGEST" per tag, one per line.
void PrintPushed(const std::vector<PushedImage>& pushed, std::ostream& out);

// The "pushed" array of the --json reports.
void WritePushedJson(const std::vector<PushedImage>& pushed,
                     common::JsonWriter& w);

// The registries of one command: libcurl with --registry-ca, the auth
// files and credential helpers of this process's environment
// (REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, DOCKER_CONFIG, HOME; helpers also
// get PATH and DBUS_SESSION_BUS_ADDRESS), --insecure-registry hosts.
class RegistrySession {
 public:
  explicit RegistrySession(const RegistryFlags& flags);
  RegistrySession(const RegistrySession&) = delete;
  RegistrySession& operator=(const RegistrySession&) = delete;

  common::registry::RegistryAccess& access() { return access_; }

 private:
  common::registry::CurlTransport transport_;
  common::registry::ProcessCredentialHelper helpers_;
  common::registry::RegistryAccess access_;
};

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_IMAGE_PUSH_H_
