#include "client/base_pull.h"

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/paths.h"
#include "common/beneath.h"
#include "common/oci/layout_reader.h"
#include "common/registry/image_puller.h"
#include "common/registry/image_reference.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace pbrx::client {

namespace reg = common::registry;

namespace {

absl::StatusOr<PulledBase> Pull(const std::string& base_flag,
                                const RegistryFlags& flags,
                                const std::string& cache_dir,
                                const std::string& platform_flag) {
  if (!absl::StartsWith(base_flag, "docker://")) {
    return absl::InvalidArgumentError("not a docker:// reference");
  }
  ASSIGN_OR_RETURN(reg::ImageReference ref,
                   reg::ParseImageReference(base_flag.substr(9)));
  // linux/amd64 (what executors run) unless --platform says otherwise.
  reg::PullOptions po;
  if (!platform_flag.empty()) {
    std::vector<std::string> parts = absl::StrSplit(platform_flag, '/');
    po.os = parts[0];
    po.architecture = parts.size() > 1 ? parts[1] : "";
    po.variant = parts.size() > 2 ? parts[2] : "";
  }
  const std::string platform = absl::StrCat(
      po.os, "/", po.architecture, po.variant.empty() ? "" : "/" + po.variant);
  const std::string bases = cache_dir + "/bases";
  if (!MakeDirs(bases)) {
    return absl::InternalError("cannot create " + bases);
  }
  auto layout_for = [&](const std::string& digest) {
    return absl::StrCat(
        bases, "/",
        common::Sha256::HexOf(
            absl::StrCat(ref.Name(), "@", digest, " ", platform))
            .substr(0, 32));
  };
  PulledBase out;
  // A cached layout, verified; a damaged one goes (and is pulled again).
  auto cached = [&out, &po](const std::string& dir) {
    struct stat st;
    if (stat((dir + "/index.json").c_str(), &st) != 0) return false;
    common::oci::OciReadOptions ro;
    ro.os = po.os;
    ro.architecture = po.architecture;
    absl::Status s = common::oci::ReadOciImage(dir, "", ro).status();
    if (s.ok()) return true;
    out.warning = absl::StrCat("the cached base layout ", dir, " was damaged (",
                               s.message(), "); pulling it again");
    (void)common::RemoveTree(dir);
    return false;
  };
  std::string name = ref.Name();
  if (!ref.tag.empty()) absl::StrAppend(&name, ":", ref.tag);
  if (!ref.digest.empty() && cached(layout_for(ref.digest))) {
    out.layout_dir = layout_for(ref.digest);
    out.base = absl::StrCat("docker://", name, "@", ref.digest);
    return out;
  }
  RegistrySession session(flags);
  ASSIGN_OR_RETURN(reg::RegistryClient * client,
                   session.access().Client(ref.registry));
  std::string digest = ref.digest;
  if (digest.empty()) {
    ASSIGN_OR_RETURN(reg::FetchedManifest top,
                     client->GetManifest(ref.repository,
                                         ref.tag.empty() ? "latest" : ref.tag,
                                         reg::ManifestAcceptTypes()));
    digest = "sha256:" + top.digest.hash();
    if (ref.tag.empty()) absl::StrAppend(&name, ":latest");
  }
  out.layout_dir = layout_for(digest);
  out.base = absl::StrCat("docker://", name, "@", digest);
  if (cached(out.layout_dir)) return out;
  RETURN_IF_ERROR(
      reg::PullImage(*client, ref.repository, digest, po, out.layout_dir)
          .status());
  return out;
}

}  // namespace

absl::StatusOr<PulledBase> PullDockerBase(const std::string& base_flag,
                                          const RegistryFlags& flags,
                                          const std::string& cache_dir,
                                          const std::string& platform) {
  absl::StatusOr<PulledBase> pulled =
      Pull(base_flag, flags, cache_dir, platform);
  if (!pulled.ok()) {
    return absl::Status(
        pulled.status().code(),
        absl::StrCat("--base ", base_flag, ": ", pulled.status().message()));
  }
  return pulled;
}

}  // namespace pbrx::client
