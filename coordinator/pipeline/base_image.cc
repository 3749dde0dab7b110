#include "coordinator/pipeline/base_image.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cache/directory_tree.h"
#include "common/base/base_probe.h"
#include "common/base/debian_base.h"
#include "common/bindep/bindep_file.h"
#include "common/json_struct.h"
#include "common/oci/layout_reader.h"
#include "common/oci/verified_image.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/step_tool.h"
#include "coordinator/pipeline/base_config.h"
#include "google/protobuf/struct.pb.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;
using google::protobuf::Struct;

constexpr int64_t kMaxConfigBytes = 4 << 20;

// The step tool oci-base over the layout's tree in the CAS: an executor
// verifies every digest, blob and diff_id and picks the platform (a
// layout verified once is an Action Cache hit after; the coordinator reads
// no layer). Its small answer is validated here and the config read from
// the CAS against its digest.
absl::StatusOr<common::oci::OciImage> VerifiedLayout(StepRunner& steps,
                                                     const BaseSpec& spec,
                                                     absl::Mutex* build_mu) {
  ActionSpec s;
  common::OciBaseArgs args;
  args.ref = spec.ref;
  if (!spec.platform.empty()) {
    std::vector<std::string> parts = absl::StrSplit(spec.platform, '/');
    args.os = parts[0];
    if (parts.size() > 1) args.architecture = parts[1];
  }
  s.argv = common::OciBaseArgv(args);
  s.input_root = *spec.layout_root;
  s.output_files = {common::oci::kVerifiedImageFile};
  s.platform = {{common::kStepToolsProperty, common::kStepToolsVersion}};
  re::ActionResult r;
  {
    absl::MutexLockMaybe lock(build_mu);
    ASSIGN_OR_RETURN(r, steps.Step("base", spec.base, s));
  }
  const std::string what =
      absl::StrCat("the oci-base step's ", common::oci::kVerifiedImageFile);
  ASSIGN_OR_RETURN(Digest out,
                   steps.OutputFile(r, common::oci::kVerifiedImageFile));
  if (out.size() > common::oci::kMaxVerifiedImageBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", out.size(), " bytes"));
  }
  ASSIGN_OR_RETURN(std::string text, cache::ReadBlob(steps.cas(), out));
  ASSIGN_OR_RETURN(common::oci::OciImage image,
                   common::oci::ParseVerifiedImageJson(text, what));
  if (image.config.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config sha256:", image.config.hash(), ": ", image.config.size(),
        " bytes, more than ", kMaxConfigBytes));
  }
  ASSIGN_OR_RETURN(image.config_json,
                   cache::ReadBlob(steps.cas(), image.config));
  if (common::Sha256::HexOf(image.config_json) != image.config.hash()) {
    return absl::DataLossError(absl::StrCat(
        "config sha256:", image.config.hash(), " does not match its bytes"));
  }
  return image;
}

// An image from an OCI layout: from the layout's tree in the CAS (the
// oci-base step; its layers are in the CAS already), else from the
// directory in the spec (common/oci/layout_reader verifies it here; its
// layers are imported into the CAS and checked again on the way in).
absl::StatusOr<BaseImage> ImportOciBase(StepRunner& steps, const BaseSpec& spec,
                                        absl::Mutex* build_mu) {
  // An uploaded layout's ref comes with it; its PATH only names it. A
  // docker:// base always comes as the layout the client pulled.
  const bool pulled = absl::StartsWith(spec.base, "docker://");
  if (pulled && !spec.layout_root.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--base ", spec.base,
                     ": a docker:// base comes with the layout the client "
                     "pulled (base_layout)"));
  }
  absl::StatusOr<common::oci::OciImage> image;
  if (spec.layout_root.has_value()) {
    image = VerifiedLayout(steps, spec, build_mu);
  } else {
    const absl::Time start = absl::Now();
    const auto [dir, ref] = common::oci::ParseOciLayoutSpec(spec.base);
    image = common::oci::ReadOciImage(dir, ref);
    StepReport step{"base", spec.base, false,
                    absl::ToDoubleSeconds(absl::Now() - start),
                    image.ok() ? "sha256:" + image->manifest.hash() : ""};
    step.argv = {"import", spec.base};
    steps.AddStep(std::move(step));
  }
  if (!image.ok()) {
    return absl::Status(
        image.status().code(),
        absl::StrCat("--base ", spec.base, ": ", image.status().message()));
  }
  BaseImage base;
  // A registry base is named as registries spell it (pullable as is).
  base.name = pulled ? spec.base.substr(9) : spec.base;
  base.digest = "sha256:" + image->manifest.hash();
  ASSIGN_OR_RETURN(base.config,
                   ParseBaseConfig(image->config_json, "--base " + spec.base));
  for (const common::oci::OciImageLayer& l : image->layers) {
    common::oci::Layer layer;
    layer.digest = l.digest;
    if (!l.path.empty()) {
      ASSIGN_OR_RETURN(layer.digest, cache::UploadFile(l.path, steps.cas()));
      if (layer.digest != l.digest) {
        return absl::DataLossError(
            absl::StrCat(spec.base, ": blob sha256:", l.digest.hash(),
                         " changed while importing"));
      }
    }
    layer.media_type = absl::StrContains(l.media_type, "gzip")
                           ? common::oci::kGzipLayerMediaType
                           : common::oci::kTarLayerMediaType;
    layer.diff_id = l.diff_id;
    base.layers.push_back(layer);
  }
  return base;
}

// The debian-base step (common/base/debian_base.h) on an executor that
// offers it.
absl::StatusOr<BaseImage> DebianBase(StepRunner& steps, const BaseSpec& spec,
                                     absl::Mutex* build_mu) {
  common::base::DebianBaseSpec debian;
  debian.suite = spec.base.substr(7);
  debian.mtime = spec.mtime;
  debian.mirror = spec.mirror;
  debian.release = spec.release;
  ActionSpec s;
  ASSIGN_OR_RETURN(s.argv, common::base::DebianBaseArgv(debian));
  ASSIGN_OR_RETURN(s.input_root, steps.EmptyDir());
  s.output_files = {common::base::kBaseLayerFile,
                    common::base::kBaseDiffIdFile};
  s.platform = {{common::kStepToolsProperty, common::kStepToolsVersion},
                {common::kDebianBaseProperty, common::kDebianBaseBuilder},
                {"network", "egress"}};
  re::ActionResult r;
  {
    absl::MutexLockMaybe lock(build_mu);
    ASSIGN_OR_RETURN(r, steps.Step("base", spec.base, s));
  }
  ASSIGN_OR_RETURN(common::oci::Layer l,
                   steps.LayerOutputs(r, common::base::kBaseLayerFile,
                                      common::base::kBaseDiffIdFile));
  BaseImage base;
  base.layers = {l};
  base.name = spec.base;
  base.digest = "sha256:" + l.digest.hash();
  return base;
}

}  // namespace

absl::StatusOr<BaseImage> MakeBase(StepRunner& steps, const BaseSpec& spec,
                                   absl::Mutex* build_mu) {
  if (absl::StartsWith(spec.base, "debian:"))
    return DebianBase(steps, spec, build_mu);
  if (!absl::StartsWith(spec.base, "oci:") &&
      !absl::StartsWith(spec.base, "docker://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--base ", spec.base,
                     ": expected debian:SUITE, oci:DIR[:REF] or docker://REF"));
  }
  return ImportOciBase(steps, spec, build_mu);
}

absl::StatusOr<ProbedBase> ProbeBase(StepRunner& steps,
                                     const std::string& rootfs) {
  ASSIGN_OR_RETURN(
      std::string text,
      steps.Probe("base-probe", "base", common::base::kBaseProbeScript, rootfs,
                  "probe.json", 16 << 20));
  ASSIGN_OR_RETURN(Struct info, common::ParseJsonStruct(text, "probe.json"));
  ProbedBase probed;
  Scheme& scheme = probed.scheme;
  scheme.python = common::Str(info, "python");
  if (const Struct* paths = common::Obj(info, "paths")) {
    scheme.purelib = common::Str(*paths, "purelib");
    scheme.platlib = common::Str(*paths, "platlib");
    scheme.scripts = common::Str(*paths, "scripts");
    scheme.data = common::Str(*paths, "data");
    scheme.include = common::Str(*paths, "include");
  }
  if (scheme.python.empty() || scheme.purelib.empty() ||
      scheme.scripts.empty()) {
    return absl::FailedPreconditionError(
        "the base probe found no usable Python in the base");
  }
  std::string os_release;
  if (const Struct* osr = common::Obj(info, "os_release")) {
    probed.codename = common::Str(*osr, "VERSION_CODENAME");
    probed.version_id = common::Str(*osr, "VERSION_ID");
    for (const auto& [k, v] : osr->fields()) {
      absl::StrAppend(&os_release, k, "=\"", v.string_value(), "\"\n");
    }
  }
  ASSIGN_OR_RETURN(auto fields, common::bindep::ParseOsRelease(
                                    os_release, "base os-release"));
  ASSIGN_OR_RETURN(probed.platform,
                   common::bindep::PlatformFromDistro(
                       common::bindep::DistroFromOsRelease(fields)));
  return probed;
}

std::string RootfsOf(const std::vector<common::oci::Layer>& layers) {
  std::vector<std::string> ds;
  for (const auto& l : layers) ds.push_back(l.digest.ToString());
  return absl::StrJoin(ds, ",");
}

}  // namespace pbrx::coordinator
