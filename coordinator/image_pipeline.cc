#include "coordinator/image_pipeline.h"

#include <memory>
#include <optional>
#include <regex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/cas_source_tree.h"
#include "cache/directory_tree.h"
#include "common/beneath.h"
#include "common/bindep/bindep_file.h"
#include "common/bindep/platform.h"
#include "common/oci/image_layout.h"
#include "common/oci/layer.h"
#include "common/parallel.h"
#include "common/project/project.h"
#include "common/project/python_names.h"
#include "common/project/source_tree.h"
#include "common/status_macros.h"
#include "common/wheel/wheel_metadata.h"
#include "coordinator/build_inputs.h"
#include "coordinator/image_sink.h"
#include "coordinator/pipeline/attestations.h"
#include "coordinator/pipeline/base_image.h"
#include "coordinator/pipeline/dependency_resolver.h"
#include "coordinator/pipeline/distro_packages.h"
#include "coordinator/pipeline/image_assembler.h"
#include "coordinator/pipeline/layer_steps.h"
#include "coordinator/pipeline/package_inventory.h"
#include "coordinator/pipeline/step_runner.h"
#include "coordinator/planner.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

// The commit checked out in `tree` if it is the top of a git checkout (""
// if not, or if HEAD cannot be read): .git/HEAD, its ref file or
// packed-refs, each read beneath the tree (never through a symlink out of
// it) and capped, the ref checked to be a plain refs/ path.
std::string GitRevision(const common::project::SourceTree& tree) {
  auto read = [&](const std::string& rel, int64_t max) {
    absl::StatusOr<std::string> r = tree.ReadFile(rel, max);
    return r.ok() ? std::string(absl::StripAsciiWhitespace(*r)) : "";
  };
  auto is_sha = [](absl::string_view s) {
    return s.size() == 40 &&
           s.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
  };
  std::string head = read(".git/HEAD", 4096);
  if (!absl::StartsWith(head, "ref: ")) return is_sha(head) ? head : "";
  std::string ref = head.substr(5);
  static const std::regex kRef("refs/[A-Za-z0-9._/-]{1,200}");
  if (!std::regex_match(ref, kRef) || absl::StrContains(ref, "..")) return "";
  std::string sha = read(".git/" + ref, 4096);
  if (is_sha(sha)) return sha;
  for (absl::string_view line :
       absl::StrSplit(read(".git/packed-refs", 64 << 20), '\n')) {
    if (absl::EndsWith(line, " " + ref) && is_sha(line.substr(0, 40)))
      return std::string(line.substr(0, 40));
  }
  return "";
}

// The metadata of the project wheel `digest`, read in memory from the CAS
// (it is the project's build output: capped).
absl::StatusOr<common::wheel::WheelMetadata> WheelMetadataOf(
    cache::BlobStore& cas, const std::string& file, const Digest& digest) {
  if (digest.size() > kMaxProjectWheelBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("the project wheel ", file, " is ", digest.size(),
                     " bytes, over the limit of ", kMaxProjectWheelBytes));
  }
  ASSIGN_OR_RETURN(std::string bytes, cache::ReadBlob(cas, digest));
  return common::wheel::ParseWheelMetadata(file, bytes);
}

}  // namespace

absl::StatusOr<ProjectBuild> ImagePipeline::Build(const std::string& dir,
                                                  const BuildOptions& options) {
  StepRunnerOptions step_options;
  step_options.source_date_epoch = options.source_date_epoch;
  step_options.on_step = options.on_step;
  step_options.on_step_start = options.on_step_start;
  step_options.progress = options.progress;
  step_options.label = dir.substr(dir.rfind('/') + 1);
  if (options.platform != "linux/amd64")
    step_options.platform = options.platform;
  StepRunner steps(cas_,
                   options.executor != nullptr ? options.executor : runner_,
                   step_options);
  ProjectBuild report;
  // The project's files: the uploaded tree in the CAS when given (the
  // farm: nothing staged to disk), else the directory.
  std::unique_ptr<common::project::SourceTree> tree;
  if (options.source_root.has_value()) {
    tree =
        std::make_unique<cache::CasSourceTree>(cas_, *options.source_root, dir);
  } else {
    tree = std::make_unique<common::project::DirSourceTree>(dir);
  }
  ASSIGN_OR_RETURN(common::project::Project project,
                   common::project::LoadProject(*tree));
  // The project's [tool.pbrx] prefix and tags, unless pinned by the user.
  PlanOptions naming_options;
  naming_options.prefix = options.prefix;
  naming_options.tags = options.tags;
  naming_options.pinned = options.pinned;
  absl::StatusOr<Naming> naming = EffectiveNaming(project, naming_options);
  if (!naming.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, "/", naming.status().message()));
  }

  // 1. Base and probe.
  BaseSpec base_spec;
  base_spec.base = options.base;
  base_spec.layout_root = options.base_layout_root;
  base_spec.ref = options.base_ref;
  base_spec.mirror = options.mirror;
  base_spec.platform = options.platform;
  base_spec.release = options.base_release;
  base_spec.mtime = options.source_date_epoch;
  ASSIGN_OR_RETURN(BaseImage base, MakeBase(steps, base_spec, &base_mu_));
  const std::string base_rootfs = RootfsOf(base.layers);
  ASSIGN_OR_RETURN(ProbedBase probed, ProbeBase(steps, base_rootfs));
  const Scheme& scheme = probed.scheme;
  const common::bindep::Platform& platform = probed.platform;

  // 2. Distro packages for this platform.
  std::optional<common::bindep::BindepFile> bindep;
  if (!project.bindep_file.empty()) {
    ASSIGN_OR_RETURN(std::string text,
                     tree->ReadFile(project.bindep_file, 16 << 20));
    ASSIGN_OR_RETURN(bindep, common::bindep::ParseBindepFile(
                                 text, dir + "/" + project.bindep_file));
  }
  // --mirror on an imported base: the apt/apk steps read the mirror's
  // sources from their input root (a debian: base names it already).
  std::string mirror_sources;
  if (!options.mirror.empty() && !absl::StartsWith(options.base, "debian:")) {
    ASSIGN_OR_RETURN(mirror_sources,
                     MirrorSources(platform.package_manager, options.mirror,
                                   probed.codename, probed.version_id));
  }
  PlanOptions plan_options = naming_options;
  plan_options.platform_atoms = platform.atoms;
  ProjectPlan plan = PlanProject(project, bindep, plan_options);

  // The runtime layer needs only the base: it is made while the builder
  // chain runs, and then the distro packages of the images' rootfs are
  // listed for their SBOMs.
  std::optional<common::oci::Layer> runtime_layer;
  DistroInventory inventory;
  absl::Status runtime_status;
  common::ScopedThread runtime_thread;
  if (!plan.runtime_packages.empty() || options.attestations) {
    runtime_thread = common::ScopedThread([&] {
      runtime_status = [&]() -> absl::Status {
        std::string rootfs = base_rootfs;
        if (!plan.runtime_packages.empty()) {
          ASSIGN_OR_RETURN(runtime_layer,
                           PackageLayer(steps, "runtime", base_rootfs,
                                        platform.package_manager,
                                        plan.runtime_packages, mirror_sources));
          absl::StrAppend(&rootfs, ",", runtime_layer->digest.ToString());
        }
        if (!options.attestations) return absl::OkStatus();
        ASSIGN_OR_RETURN(inventory, ProbePackages(steps, "image", rootfs));
        return absl::OkStatus();
      }();
    });
  }

  // 3. Builder: compile packages + build tools.
  std::vector<std::string> build_packages = plan.compile_packages;
  ASSIGN_OR_RETURN(
      std::vector<std::string> tools,
      BuildToolPackages(platform.package_manager, project.backend));
  build_packages.insert(build_packages.end(), tools.begin(), tools.end());
  ASSIGN_OR_RETURN(
      common::oci::Layer builder,
      PackageLayer(steps, "builder", base_rootfs, platform.package_manager,
                   build_packages, mirror_sources));
  std::string builder_rootfs =
      absl::StrCat(base_rootfs, ",", builder.digest.ToString());

  // 4. Project wheel.
  Digest src_root = Digest::Empty();
  if (options.source_root.has_value()) {
    src_root = *options.source_root;
  } else {
    ASSIGN_OR_RETURN(cache::UploadedTree src,
                     cache::UploadDirectory(dir, *cas_));
    src_root = src.root;
  }
  ActionSpec wheel;
  wheel.argv = {"python3",     "-m",
                "pip",         "wheel",
                "--no-deps",   "--no-build-isolation",
                "--no-index",  "--disable-pip-version-check",
                "--wheel-dir", "/work/dist",
                "/work/src"};
  ASSIGN_OR_RETURN(wheel.input_root, steps.Wrap("src", src_root));
  wheel.output_dirs = {"dist"};
  wheel.platform = {{"rootfs", builder_rootfs}};
  if (project.backend == "pbr") {
    // pbr takes the version from git; without a checkout it needs
    // PBR_VERSION: the caller's, else the static [metadata] version.
    bool has_git = tree->IsDir(".git") || tree->IsFile(".git");
    if (!options.pbr_version.empty()) {
      wheel.env["PBR_VERSION"] = options.pbr_version;
    } else if (!has_git && project.version.has_value()) {
      wheel.env["PBR_VERSION"] = *project.version;
    } else if (!has_git) {
      return absl::FailedPreconditionError(
          absl::StrCat(dir,
                       " is a pbr project outside a git checkout: set "
                       "PBR_VERSION or [metadata] version"));
    }
  }
  ASSIGN_OR_RETURN(
      re::ActionResult wheel_result,
      steps.Step("project-wheel", project.name.empty() ? dir : project.name,
                 wheel));
  ASSIGN_OR_RETURN(auto project_wheel, steps.SingleWheel(wheel_result));
  std::string wheel_file = project_wheel.first;
  Digest wheel_digest = project_wheel.second;
  ASSIGN_OR_RETURN(common::wheel::WheelMetadata meta,
                   WheelMetadataOf(*cas_, wheel_file, wheel_digest));
  report.name = meta.name;
  report.version = meta.version;
  report.base_name = base.name;
  report.base_digest = base.digest;

  // 5. Dependencies: one resolution per image (the base with its extra,
  // each script with the base extra and its own), sdists built into wheels.
  std::string base_extra;
  std::map<std::string, std::string> script_extra;  // script -> matched extra
  for (const ImagePlan& img : plan.images) {
    if (img.extras.empty()) continue;
    if (img.kind == "base") base_extra = img.extras[0];
    if (img.kind == "script") script_extra[img.script] = img.extras[0];
  }
  // Extras the wheel itself declares win over the static model's spelling.
  auto wheel_extra = [&](const std::string& wanted) -> std::string {
    for (const std::string& e : meta.extras) {
      if (common::project::NormalizeName(e) ==
          common::project::NormalizeName(wanted))
        return e;
    }
    return "";
  };
  std::string wheel_base_extra =
      wheel_extra(absl::StrReplaceAll(meta.name, {{"-", "_"}}) + "_base");
  if (wheel_base_extra.empty()) wheel_base_extra = wheel_extra(base_extra);
  WheelList base_wheels;
  std::map<std::string, WheelList> script_wheels;
  std::unique_ptr<DependencyResolver> resolver;
  bool has_requirements = !meta.requires_dist.empty();
  if (has_requirements) {
    if (!options.find_links_root.has_value() && options.index_url.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          meta.name,
          " has requirements; give --find-links DIR or --index-url URL"));
    }
    ResolveInputs in;
    in.project_wheel_file = wheel_file;
    in.project_wheel = wheel_digest;
    in.find_links_root = options.find_links_root;
    in.constraint_blobs = options.constraint_blobs;
    in.index_url = options.index_url;
    in.extra_index_urls = options.extra_index_urls;
    in.trusted_hosts = options.trusted_hosts;
    in.credentials = options.index_credentials;
    in.builder_rootfs = builder_rootfs;
    ASSIGN_OR_RETURN(resolver,
                     DependencyResolver::Create(&steps, std::move(in)));
    std::vector<std::string> base_extras;
    if (!wheel_base_extra.empty()) base_extras.push_back(wheel_base_extra);
    // One resolution per image, all at once.
    std::vector<std::pair<std::string, std::vector<std::string>>> todo = {
        {"base", base_extras}};
    for (const auto& [script, extra] : script_extra) {
      std::string e = wheel_extra(extra);
      if (e.empty()) continue;
      std::vector<std::string> extras = base_extras;
      extras.push_back(e);
      todo.emplace_back(script, extras);
    }
    std::vector<WheelList> resolved(todo.size());
    RETURN_IF_ERROR(
        common::ParallelFor(todo.size(), [&](size_t i) -> absl::Status {
          ASSIGN_OR_RETURN(resolved[i],
                           resolver->Resolve(todo[i].first, todo[i].second));
          return absl::OkStatus();
        }));
    base_wheels = resolved[0];
    std::set<std::string> in_base;
    for (const auto& [f, d] : base_wheels) in_base.insert(f);
    for (size_t i = 1; i < todo.size(); ++i) {
      WheelList extra_only;
      for (const auto& w : resolved[i]) {
        if (in_base.count(w.first) == 0) extra_only.push_back(w);
      }
      script_wheels[todo[i].first] = extra_only;
    }
  }

  // 6. Runtime layer, python layers, images.
  std::vector<common::oci::Layer> layers;
  layers.insert(layers.end(), base.layers.begin(), base.layers.end());
  runtime_thread.Join();
  RETURN_IF_ERROR(runtime_status);
  if (runtime_layer.has_value()) layers.push_back(*runtime_layer);
  WheelList all_wheels = base_wheels;
  all_wheels.emplace_back(wheel_file, wheel_digest);
  ASSIGN_OR_RETURN(common::oci::Layer python,
                   PythonLayer(steps, "base", scheme, all_wheels));
  layers.push_back(python);
  // Byte-code, compiled by the base's Python into its own layer
  // (hash-based .pyc files: deterministic, valid whatever the mtimes).
  std::vector<std::string> lib_dirs = {scheme.purelib};
  if (scheme.platlib != scheme.purelib) lib_dirs.push_back(scheme.platlib);
  auto rootfs_of = [&](const std::vector<common::oci::Layer>& extra) {
    std::vector<common::oci::Layer> all = base.layers;
    all.insert(all.end(), extra.begin(), extra.end());
    return RootfsOf(all);
  };
  ASSIGN_OR_RETURN(common::oci::Layer python_pyc,
                   BytecodeLayer(steps, "base", rootfs_of({python}), lib_dirs));
  layers.push_back(python_pyc);
  std::vector<std::string> layered_scripts;
  for (const auto& [script, wheels] : script_wheels) {
    if (!wheels.empty()) layered_scripts.push_back(script);
  }
  std::vector<std::vector<common::oci::Layer>> per_script(
      layered_scripts.size());
  RETURN_IF_ERROR(common::ParallelFor(
      layered_scripts.size(), [&](size_t i) -> absl::Status {
        const std::string& script = layered_scripts[i];
        ASSIGN_OR_RETURN(
            common::oci::Layer sl,
            PythonLayer(steps, script, scheme, script_wheels.at(script)));
        ASSIGN_OR_RETURN(
            common::oci::Layer spyc,
            BytecodeLayer(steps, script, rootfs_of({python, python_pyc, sl}),
                          lib_dirs));
        per_script[i] = {sl, spyc};
        return absl::OkStatus();
      }));
  std::map<std::string, std::vector<common::oci::Layer>> script_layers;
  for (size_t i = 0; i < layered_scripts.size(); ++i)
    script_layers[layered_scripts[i]] = per_script[i];

  // One writer of a layout at a time, across builds (opening one may
  // create it); a given sink takes care of itself.
  absl::MutexLockMaybe layout_lock(options.images == nullptr ? &layout_mu_
                                                             : nullptr);
  // Where the images go: the given sink (the farm: the CAS), else the
  // output layout.
  std::unique_ptr<OciLayoutImageSink> layout_sink;
  ImageSink* sink = options.images;
  if (sink == nullptr) {
    ASSIGN_OR_RETURN(layout_sink,
                     OciLayoutImageSink::Open(cas_, options.output_layout,
                                              options.scratch_dir));
    sink = layout_sink.get();
  }
  std::string prefix = naming->prefix.empty() ? "" : naming->prefix + "/";
  // What each image installs, with where it came from (its SBOM).
  auto dists = [&](const WheelList& wheels) {
    std::vector<PythonDist> out;
    for (const auto& [file, digest] : wheels) {
      PythonDist d{file, digest, "project", "", Digest::Empty()};
      if (file != wheel_file && resolver != nullptr) {
        DependencyResolver::Origin o = resolver->OriginOf(file);
        d.source = o.source;
        d.sdist_file = o.sdist_file;
        d.sdist = o.sdist;
      }
      out.push_back(std::move(d));
    }
    return out;
  };
  std::vector<ImageRequest> images;
  images.push_back({prefix + ImageNameComponent(meta.name) + "-base",
                    {},
                    layers,
                    dists(all_wheels)});
  for (const auto& [script, target] : meta.console_scripts) {
    ImageRequest image{prefix + ImageNameComponent(script),
                       {scheme.scripts + "/" + script},
                       layers,
                       dists(all_wheels)};
    auto sl = script_layers.find(script);
    if (sl != script_layers.end()) {
      image.layers.insert(image.layers.end(), sl->second.begin(),
                          sl->second.end());
      std::vector<PythonDist> extra = dists(script_wheels.at(script));
      image.python.insert(image.python.end(), extra.begin(), extra.end());
    }
    images.push_back(std::move(image));
  }
  ImageLabels labels;
  labels.title = meta.name;
  labels.version = meta.version;
  labels.source = meta.source;
  labels.revision = GitRevision(*tree);
  labels.base_name = base.name;
  labels.base_digest = base.digest;
  labels.base_config = base.config;
  labels.created = options.source_date_epoch;
  std::optional<ImageFacts> facts;
  if (options.attestations) {
    facts.emplace();
    facts->project_name = meta.name;
    facts->project_version = meta.version;
    facts->source_url = meta.source;
    facts->revision = labels.revision;
    facts->source_root = src_root;
    facts->base_name = base.name;
    facts->base_digest = base.digest;
    facts->distro = inventory;
    facts->runtime_packages = plan.runtime_packages;
    facts->builder_packages = build_packages;
    facts->created = options.source_date_epoch;
    facts->builder_id = options.builder_id;
  }
  ASSIGN_OR_RETURN(report.images,
                   AssembleImages(steps, *sink, images, ImageTags(naming->tags),
                                  labels, facts));
  report.steps = steps.Steps();
  return report;
}

}  // namespace pbrx::coordinator
