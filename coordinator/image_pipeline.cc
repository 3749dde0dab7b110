#include "coordinator/image_pipeline.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

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
#include "common/base/base_probe.h"
#include "common/base/debian_base.h"
#include "common/beneath.h"
#include "common/bindep/bindep_file.h"
#include "common/bindep/platform.h"
#include "common/oci/image_layout.h"
#include "common/oci/layer.h"
#include "common/oci/layout_reader.h"
#include "common/parallel.h"
#include "common/project/project.h"
#include "common/project/python_names.h"
#include "common/project/source_tree.h"
#include "common/status_macros.h"
#include "common/step_tool.h"
#include "common/wheel/wheel_metadata.h"
#include "coordinator/distro_packages.h"
#include "coordinator/image_sink.h"
#include "coordinator/planner.h"
#include "cache/directory_tree.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

constexpr char kPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The fetch step: download URL to out/NAME, verify its sha256 when known.
constexpr char kFetchScript[] = R"PY(
import hashlib, os, sys, urllib.request
url, sha, name = sys.argv[1:4]
os.makedirs("out", exist_ok=True)
h = hashlib.sha256()
with urllib.request.urlopen(url, timeout=120) as r, open("out/" + name, "wb") as f:
    for chunk in iter(lambda: r.read(1 << 20), b""):
        h.update(chunk)
        f.write(chunk)
if sha and h.hexdigest() != sha:
    sys.exit("sha256 mismatch for %s: got %s, expected %s" % (url, h.hexdigest(), sha))
print("fetched %s sha256=%s" % (url, h.hexdigest()))
)PY";

struct ActionSpec {
  bool do_not_cache = false;
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  Digest input_root = Digest::Empty();
  std::vector<std::string> output_files;
  std::vector<std::string> output_dirs;
  std::vector<std::pair<std::string, std::string>> platform;
};

struct Scheme {
  std::string python, purelib, platlib, scripts, data, include;
};

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

std::string Tail(const std::string& text, size_t lines) {
  std::vector<absl::string_view> all = absl::StrSplit(text, '\n');
  size_t start = all.size() > lines ? all.size() - lines : 0;
  return absl::StrJoin(all.begin() + start, all.end(), "\n");
}

absl::StatusOr<google::protobuf::Struct> ParseJson(const std::string& text,
                                                   absl::string_view what) {
  google::protobuf::Struct s;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(text, &s, opts).ok()) {
    return absl::InternalError(absl::StrCat(what, " is not valid JSON"));
  }
  return s;
}

std::string Str(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

const google::protobuf::Struct* Obj(const google::protobuf::Struct& s,
                                    const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() || !it->second.has_struct_value()
             ? nullptr
             : &it->second.struct_value();
}

// One build's state and step runner.
class BuildRun {
 public:
  BuildRun(ImagePipeline* pipeline, cache::BlobStore* cas,
           cache::ActionCache* ac, common::ActionExecutor* runner,
           const BuildOptions& options)
      : pipeline_(*pipeline),
        cas_(*cas),
        ac_(*ac),
        runner_(*runner),
        options_(options) {}

  // Steps are added from several threads; read `report` only when they
  // have all finished.
  ProjectBuild report;
  std::string project_label;

  void AddStep(StepReport step) {
    if (options_.on_step) options_.on_step(step);
    absl::MutexLock lock(&mu_);
    report.steps.push_back(std::move(step));
  }

  void Progress(const std::string& what) {
    if (!options_.progress) return;
    int cached = 0, run = 0;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& s : report.steps) {
        if (s.kind != "image-assembly") (s.cached ? cached : run)++;
      }
    }
    options_.progress(absl::StrCat(project_label, ": ", cached, " cached, ",
                                   run, " run; ", what));
  }

  absl::StatusOr<Digest> PutAction(const ActionSpec& spec) {
    re::Command cmd;
    for (const auto& a : spec.argv) cmd.add_arguments(a);
    std::map<std::string, std::string> env = spec.env;
    env.emplace("PATH", kPath);
    env.emplace("HOME", "/tmp");
    env.emplace("LANG", "C.UTF-8");
    // Wheels are ZIP files, which cannot hold times before 1980: build
    // backends (hatchling, flit) refuse an earlier SOURCE_DATE_EPOCH.
    constexpr int64_t kZipEpoch = 315532800;  // 1980-01-01T00:00:00Z
    env["SOURCE_DATE_EPOCH"] =
        absl::StrCat(std::max(options_.source_date_epoch, kZipEpoch));
    for (const auto& [k, v] : env) {
      auto* ev = cmd.add_environment_variables();
      ev->set_name(k);
      ev->set_value(v);
    }
    for (const auto& o : spec.output_files) cmd.add_output_files(o);
    for (const auto& o : spec.output_dirs) cmd.add_output_directories(o);
    ASSIGN_OR_RETURN(Digest c, cache::WriteBlob(cas_, cmd.SerializeAsString()));
    re::Action action;
    *action.mutable_command_digest() = c.ToProto();
    *action.mutable_input_root_digest() = spec.input_root.ToProto();
    action.set_do_not_cache(spec.do_not_cache);
    auto props = spec.platform;
    std::sort(props.begin(), props.end());
    for (const auto& [k, v] : props) {
      auto* p = action.mutable_platform()->add_properties();
      p->set_name(k);
      p->set_value(v);
    }
    return cache::WriteBlob(cas_, action.SerializeAsString());
  }

  absl::StatusOr<re::ActionResult> Step(const std::string& kind,
                                        const std::string& name,
                                        const ActionSpec& spec) {
    ASSIGN_OR_RETURN(Digest action, PutAction(spec));
    absl::Time start = absl::Now();
    Progress(absl::StrCat("running ", kind, " ", name));
    ASSIGN_OR_RETURN(common::ActionOutcome out,
                     runner_.Run(action, {false, kind}));
    StepReport step{kind, name, out.cached,
                    absl::ToDoubleSeconds(absl::Now() - start),
                    action.ToString()};
    step.joined = out.joined;
    step.argv = spec.argv;
    step.platform = spec.platform;
    step.input_root = spec.input_root.ToString();
    AddStep(std::move(step));
    if (!out.status.ok() || out.result.exit_code() != 0) {
      std::string log;
      for (const re::Digest* d :
           {&out.result.stdout_digest(), &out.result.stderr_digest()}) {
        absl::StatusOr<Digest> dd = Digest::FromProto(*d);
        if (dd.ok()) log += cache::ReadBlob(cas_, *dd).value_or("");
      }
      return absl::AbortedError(absl::StrCat(
          "step ", kind, " (", name, ") failed: ",
          out.status.ok() ? absl::StrCat("exit ", out.result.exit_code())
                          : std::string(out.status.message()),
          "\n  command: ", absl::StrJoin(spec.argv, " "),
          "\n  log (last lines):\n", Tail(log, 20)));
    }
    return out.result;
  }

  absl::StatusOr<Digest> OutputFile(const re::ActionResult& r,
                                    const std::string& path) {
    for (const auto& f : r.output_files()) {
      if (f.path() == path) return Digest::FromProto(f.digest());
    }
    return absl::InternalError(absl::StrCat("step produced no ", path));
  }

  // A layer a step produced as two outputs: the blob and its diff_id text.
  absl::StatusOr<common::oci::Layer> LayerOutputs(
      const re::ActionResult& r, const std::string& blob_path,
      const std::string& diff_id_path) {
    common::oci::Layer layer;
    ASSIGN_OR_RETURN(layer.digest, OutputFile(r, blob_path));
    ASSIGN_OR_RETURN(Digest diff_blob, OutputFile(r, diff_id_path));
    ASSIGN_OR_RETURN(std::string diff, cache::ReadBlob(cas_, diff_blob));
    ASSIGN_OR_RETURN(layer.diff_id, common::oci::ParseDiffId(diff));
    return layer;
  }

  // A layer made by a rootfs-diff step.
  absl::StatusOr<common::oci::Layer> CapturedLayer(const re::ActionResult& r) {
    return LayerOutputs(r, "rootfs-diff.tar.gz", "rootfs-diff.diff_id");
  }

  // Distro packages installed with the base's package manager (apt or
  // apk) into a layer of their own.
  absl::StatusOr<common::oci::Layer> PackageLayer(
      const std::string& name, const std::string& rootfs,
      common::bindep::PackageManager manager,
      const std::vector<std::string>& packages) {
    ASSIGN_OR_RETURN(PackageInstall install,
                     InstallPackagesCommand(manager, packages));
    ActionSpec s;
    s.argv = install.argv;
    s.env = install.env;
    ASSIGN_OR_RETURN(s.input_root, EmptyDir());
    s.platform = {
        {"rootfs", rootfs}, {"capture", "rootfs-diff"}, {"network", "egress"}};
    ASSIGN_OR_RETURN(re::ActionResult r, Step("distro-layer", name, s));
    return CapturedLayer(r);
  }

  absl::StatusOr<Digest> EmptyDir() {
    return cache::WriteBlob(cas_, re::Directory().SerializeAsString());
  }

  // A directory holding one named subtree.
  absl::StatusOr<Digest> Wrap(const std::string& name, const Digest& child) {
    re::Directory d;
    auto* n = d.add_directories();
    n->set_name(name);
    *n->mutable_digest() = child.ToProto();
    return cache::WriteBlob(cas_, d.SerializeAsString());
  }

  // Installs wheels into one layer: the step tool install-wheels
  // (common/step_tool.h) in a sandbox on an executor, never in this
  // process (wheels are hostile input). Keyed by the scheme, the mtime, the
  // wheels (by digest, in order) and the tools version.
  absl::StatusOr<common::oci::Layer> PythonLayer(
      const std::string& name, const Scheme& scheme,
      const std::vector<std::pair<std::string, Digest>>& wheels) {
    std::map<std::string, Digest> by_name;
    for (const auto& [file, d] : wheels) {
      auto [it, inserted] = by_name.emplace(file, d);
      if (!inserted && it->second != d) {
        return absl::InvalidArgumentError(
            absl::StrCat("two different wheels are named ", file, " (",
                         it->second.ToString(), " and ", d.ToString(), ")"));
      }
    }
    re::Directory wheel_dir;  // files sorted by name, as REAPI wants
    for (const auto& [file, d] : by_name) {
      auto* f = wheel_dir.add_files();
      f->set_name(file);
      *f->mutable_digest() = d.ToProto();
    }
    ASSIGN_OR_RETURN(Digest wheels_digest,
                     cache::WriteBlob(cas_, wheel_dir.SerializeAsString()));
    common::InstallWheelsArgs args;
    args.python = scheme.python;
    args.purelib = scheme.purelib;
    args.platlib = scheme.platlib;
    args.scripts = scheme.scripts;
    args.data = scheme.data;
    args.include = scheme.include;
    args.mtime = options_.source_date_epoch;
    for (const auto& [file, d] : wheels)
      args.wheels.push_back("wheels/" + file);
    ActionSpec s;
    s.argv = common::InstallWheelsArgv(args);
    ASSIGN_OR_RETURN(s.input_root, Wrap("wheels", wheels_digest));
    s.output_files = {"layer.tar.gz", "layer.diff_id"};
    s.platform = {{common::kStepToolsProperty, common::kStepToolsVersion}};
    ASSIGN_OR_RETURN(re::ActionResult r, Step("python-layer", name, s));
    return LayerOutputs(r, "layer.tar.gz", "layer.diff_id");
  }

  // Compiles the .py files below `dirs` (present in `rootfs`) into a layer.
  absl::StatusOr<common::oci::Layer> BytecodeLayer(
      const std::string& name, const std::string& rootfs,
      const std::vector<std::string>& dirs) {
    ActionSpec s;
    s.argv = {"python3",       "-m", "compileall", "-q", "--invalidation-mode",
              "unchecked-hash"};
    s.argv.insert(s.argv.end(), dirs.begin(), dirs.end());
    // Only the requested files: importing compileall must not leave
    // stdlib .pyc files in the layer.
    s.env = {{"PYTHONDONTWRITEBYTECODE", "1"}};
    ASSIGN_OR_RETURN(s.input_root, EmptyDir());
    s.platform = {{"rootfs", rootfs}, {"capture", "rootfs-diff"}};
    ASSIGN_OR_RETURN(re::ActionResult r, Step("bytecode", name, s));
    return CapturedLayer(r);
  }

  // The one .whl in a step's single output directory: (file name, digest).
  absl::StatusOr<std::pair<std::string, Digest>> SingleWheel(
      const re::ActionResult& r) {
    if (r.output_directories_size() != 1) {
      return absl::InternalError("the wheel step produced no output directory");
    }
    ASSIGN_OR_RETURN(Digest tree_digest,
                     Digest::FromProto(r.output_directories(0).tree_digest()));
    ASSIGN_OR_RETURN(std::string tree_bytes,
                     cache::ReadBlob(cas_, tree_digest));
    re::Tree tree;
    if (!tree.ParseFromString(tree_bytes))
      return absl::InternalError("malformed output tree");
    for (const auto& f : tree.root().files()) {
      if (absl::EndsWith(f.name(), ".whl")) {
        ASSIGN_OR_RETURN(Digest d, Digest::FromProto(f.digest()));
        return std::make_pair(f.name(), d);
      }
    }
    return absl::InternalError("the wheel step produced no .whl");
  }

  ImagePipeline& pipeline_;
  cache::BlobStore& cas_;
  cache::ActionCache& ac_;
  common::ActionExecutor& runner_;
  const BuildOptions& options_;
  absl::Mutex mu_;
};

}  // namespace

namespace {

std::string RootfsOf(const std::vector<common::oci::Layer>& layers) {
  std::vector<std::string> ds;
  for (const auto& l : layers) ds.push_back(l.digest.ToString());
  return absl::StrJoin(ds, ",");
}

struct BaseImageLayers {
  std::vector<common::oci::Layer> layers;  // what the images contain
  std::vector<common::oci::Layer>
      step_layers;     // the rootfs of steps on the base
  std::string name;    // for the base.name label
  std::string digest;  // for the base.digest label
  bool cached = false;
  std::string key;
};

// An image from an OCI layout (common/oci/layout_reader verifies every
// digest, blob and diff_id, and picks the platform from an index): from the
// layout's tree in the CAS (options.base_layout_root: its layers are there
// already, verified as they were read), else from the directory in `spec`
// (its layers imported into the CAS and checked again on the way in).
absl::StatusOr<BaseImageLayers> ImportOciBase(const BuildOptions& options,
                                              cache::BlobStore& cas) {
  const std::string& spec = options.base;
  // As skopeo reads oci:PATH[:REF]: the path ends at the first ':'. An
  // uploaded layout's ref comes with it (options.base_ref); its PATH only
  // names it in messages.
  std::string dir = spec.substr(4), ref;
  size_t colon = dir.find(':');
  if (colon != std::string::npos) {
    ref = dir.substr(colon + 1);
    dir = dir.substr(0, colon);
  }
  absl::StatusOr<common::oci::OciImage> image =
      options.base_layout_root.has_value()
          ? common::oci::ReadOciImage(
                cache::CasSourceTree(&cas, *options.base_layout_root,
                                     dir.empty() ? "the uploaded layout" : dir),
                options.base_ref)
          : common::oci::ReadOciImage(dir, ref);
  if (!image.ok()) {
    return absl::Status(
        image.status().code(),
        absl::StrCat("--base ", spec, ": ", image.status().message()));
  }
  BaseImageLayers base;
  base.name = spec;
  base.digest = "sha256:" + image->manifest.hash();
  base.key = base.digest;
  for (const common::oci::OciImageLayer& l : image->layers) {
    common::oci::Layer layer;
    layer.digest = l.digest;
    if (!l.path.empty()) {
      ASSIGN_OR_RETURN(layer.digest, cache::UploadFile(l.path, cas));
      if (layer.digest != l.digest) {
        return absl::DataLossError(
            absl::StrCat(spec, ": blob sha256:", l.digest.hash(),
                         " changed while importing"));
      }
    }
    layer.media_type = absl::StrContains(l.media_type, "gzip")
                           ? common::oci::kGzipLayerMediaType
                           : common::oci::kTarLayerMediaType;
    layer.diff_id = l.diff_id;
    base.layers.push_back(layer);
  }
  base.step_layers = base.layers;
  return base;
}

}  // namespace

std::string ImagePipeline::ScratchPath(const BuildOptions& options,
                                       const std::string& what) {
  return absl::StrCat(options.scratch_dir, "/", getpid(), "-", scratch_seq_++,
                      "-", what);
}

absl::StatusOr<ProjectBuild> ImagePipeline::Build(const std::string& dir,
                                                  const BuildOptions& options) {
  BuildRun b(this, cas_, ac_,
             options.executor != nullptr ? options.executor : runner_, options);
  b.project_label = dir.substr(dir.rfind('/') + 1);
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

  // 1. Base and probe.
  absl::Time t = absl::Now();
  BaseImageLayers base;
  if (absl::StartsWith(options.base, "oci:")) {
    ASSIGN_OR_RETURN(base, ImportOciBase(options, *cas_));
  } else if (absl::StartsWith(options.base, "debian:")) {
    // mmdebstrap on an executor that offers it (common/base/debian_base.h).
    common::base::DebianBaseSpec base_spec;
    base_spec.suite = options.base.substr(7);
    base_spec.mtime = options.source_date_epoch;
    ActionSpec s;
    ASSIGN_OR_RETURN(s.argv, common::base::DebianBaseArgv(base_spec));
    ASSIGN_OR_RETURN(s.input_root, b.EmptyDir());
    s.output_files = {common::base::kBaseLayerFile,
                      common::base::kBaseDiffIdFile};
    s.platform = {{common::kStepToolsProperty, common::kStepToolsVersion},
                  {common::kDebianBaseProperty, common::kDebianBaseBuilder},
                  {"network", "egress"}};
    re::ActionResult r;
    {
      // One build of a base at a time: the others find it cached.
      absl::MutexLock base_lock(&base_mu_);
      ASSIGN_OR_RETURN(r, b.Step("base", options.base, s));
    }
    ASSIGN_OR_RETURN(common::oci::Layer l,
                     b.LayerOutputs(r, common::base::kBaseLayerFile,
                                    common::base::kBaseDiffIdFile));
    base.layers = {l};
    base.step_layers = {l};
    base.name = options.base;
    base.digest = "sha256:" + l.digest.hash();
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--base ", options.base, ": expected debian:SUITE or oci:DIR[:REF]"));
  }
  if (absl::StartsWith(options.base, "oci:")) {
    StepReport base_step{"base", base.name, base.cached,
                         absl::ToDoubleSeconds(absl::Now() - t), base.key};
    base_step.argv = {"import", options.base};
    b.AddStep(std::move(base_step));
  }
  std::string base_rootfs = RootfsOf(base.step_layers);
  ActionSpec probe;
  probe.argv = {"python3", "-c", common::base::kBaseProbeScript};
  ASSIGN_OR_RETURN(probe.input_root, b.EmptyDir());
  probe.output_files = {"probe.json"};
  probe.platform = {{"rootfs", base_rootfs}};
  ASSIGN_OR_RETURN(re::ActionResult probe_result,
                   b.Step("base-probe", "base", probe));
  ASSIGN_OR_RETURN(Digest probe_json, b.OutputFile(probe_result, "probe.json"));
  ASSIGN_OR_RETURN(std::string probe_text, cache::ReadBlob(*cas_, probe_json));
  ASSIGN_OR_RETURN(google::protobuf::Struct info,
                   ParseJson(probe_text, "probe.json"));
  Scheme scheme;
  scheme.python = Str(info, "python");
  if (const auto* paths = Obj(info, "paths")) {
    scheme.purelib = Str(*paths, "purelib");
    scheme.platlib = Str(*paths, "platlib");
    scheme.scripts = Str(*paths, "scripts");
    scheme.data = Str(*paths, "data");
    scheme.include = Str(*paths, "include");
  }
  if (scheme.python.empty() || scheme.purelib.empty() ||
      scheme.scripts.empty()) {
    return absl::FailedPreconditionError(
        "the base probe found no usable Python in the base");
  }
  std::string os_release;
  if (const auto* osr = Obj(info, "os_release")) {
    for (const auto& [k, v] : osr->fields()) {
      absl::StrAppend(&os_release, k, "=\"", v.string_value(), "\"\n");
    }
  }
  auto fields = common::bindep::ParseOsRelease(os_release, "base os-release");
  if (!fields.ok()) return fields.status();
  ASSIGN_OR_RETURN(common::bindep::Platform platform,
                   common::bindep::PlatformFromDistro(
                       common::bindep::DistroFromOsRelease(*fields)));

  // 2. Distro packages for this platform.
  std::optional<common::bindep::BindepFile> bindep;
  if (!project.bindep_file.empty()) {
    ASSIGN_OR_RETURN(std::string text,
                     tree->ReadFile(project.bindep_file, 16 << 20));
    ASSIGN_OR_RETURN(bindep, common::bindep::ParseBindepFile(
                                 text, dir + "/" + project.bindep_file));
  }
  PlanOptions plan_options;
  plan_options.platform_atoms = platform.atoms;
  ProjectPlan plan = PlanProject(project, bindep, plan_options);

  // The runtime layer needs only the base: it is made while the builder
  // chain runs.
  std::optional<common::oci::Layer> runtime_layer;
  absl::Status runtime_status;
  common::ScopedThread runtime_thread;
  if (!plan.runtime_packages.empty()) {
    runtime_thread = common::ScopedThread([&] {
      absl::StatusOr<common::oci::Layer> l =
          b.PackageLayer("runtime", base_rootfs, platform.package_manager,
                         plan.runtime_packages);
      if (l.ok()) {
        runtime_layer = *l;
      } else {
        runtime_status = l.status();
      }
    });
  }

  // 3. Builder: compile packages + build tools.
  std::vector<std::string> build_packages = plan.compile_packages;
  ASSIGN_OR_RETURN(
      std::vector<std::string> tools,
      BuildToolPackages(platform.package_manager, project.backend));
  build_packages.insert(build_packages.end(), tools.begin(), tools.end());
  ASSIGN_OR_RETURN(common::oci::Layer builder,
                   b.PackageLayer("builder", base_rootfs,
                                  platform.package_manager, build_packages));
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
  ASSIGN_OR_RETURN(wheel.input_root, b.Wrap("src", src_root));
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
  ASSIGN_OR_RETURN(re::ActionResult wheel_result,
                   b.Step("project-wheel",
                          project.name.empty() ? dir : project.name, wheel));
  ASSIGN_OR_RETURN(auto project_wheel, b.SingleWheel(wheel_result));
  std::string wheel_file = project_wheel.first;
  Digest wheel_digest = project_wheel.second;
  std::string wheel_path = ScratchPath(options, wheel_file);
  RETURN_IF_ERROR(cache::BlobToFile(*cas_, wheel_digest, wheel_path));
  absl::StatusOr<common::wheel::WheelMetadata> meta =
      common::wheel::ReadWheelMetadata(wheel_path);
  unlink(wheel_path.c_str());
  if (!meta.ok()) return meta.status();
  b.report.name = meta->name;
  b.report.version = meta->version;

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
    for (const std::string& e : meta->extras) {
      if (common::project::NormalizeName(e) ==
          common::project::NormalizeName(wanted))
        return e;
    }
    return "";
  };
  std::string wheel_base_extra =
      wheel_extra(absl::StrReplaceAll(meta->name, {{"-", "_"}}) + "_base");
  if (wheel_base_extra.empty()) wheel_base_extra = wheel_extra(base_extra);
  using WheelList = std::vector<std::pair<std::string, Digest>>;
  WheelList base_wheels;
  std::map<std::string, WheelList> script_wheels;
  bool has_requirements = !meta->requires_dist.empty();
  if (has_requirements) {
    if (!options.find_links_root.has_value() && options.index_url.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          meta->name,
          " has requirements; give --find-links DIR or --index-url URL"));
    }
    // The find-links tree is in the CAS already (the client uploaded it);
    // only its top directory's file names are read here.
    Digest links_root = Digest::Empty();
    re::Directory links_dir;
    if (options.find_links_root.has_value()) {
      links_root = *options.find_links_root;
      ASSIGN_OR_RETURN(std::string bytes, cache::ReadBlob(*cas_, links_root));
      if (!links_dir.ParseFromString(bytes)) {
        return absl::InvalidArgumentError(
            absl::StrCat("find-links root ", links_root.ToString(),
                         " is not a REAPI Directory"));
      }
    } else {
      ASSIGN_OR_RETURN(links_root, b.EmptyDir());
    }
    std::map<std::string, Digest> link_files;
    for (const auto& f : links_dir.files()) {
      ASSIGN_OR_RETURN(Digest d, Digest::FromProto(f.digest()));
      link_files.emplace(f.name(), d);
    }
    re::Directory dist;
    auto* wf = dist.add_files();
    wf->set_name(wheel_file);
    *wf->mutable_digest() = wheel_digest.ToProto();
    ASSIGN_OR_RETURN(Digest dist_digest,
                     cache::WriteBlob(*cas_, dist.SerializeAsString()));
    // Constraints files by content, as constraints/c1.txt, c2.txt, ...
    std::vector<std::string> constraint_args;
    re::Directory cdir;
    for (size_t i = 0; i < options.constraint_blobs.size(); ++i) {
      auto* f = cdir.add_files();
      f->set_name(absl::StrCat("c", i + 1, ".txt"));
      *f->mutable_digest() = options.constraint_blobs[i].ToProto();
      constraint_args.push_back("--constraint");
      constraint_args.push_back(
          absl::StrCat("/work/constraints/c", i + 1, ".txt"));
    }
    // The input root's entries, sorted by name as a Directory's must be.
    re::Directory inputs;
    if (!options.constraint_blobs.empty()) {
      ASSIGN_OR_RETURN(Digest cdir_digest,
                       cache::WriteBlob(*cas_, cdir.SerializeAsString()));
      auto* c = inputs.add_directories();
      c->set_name("constraints");
      *c->mutable_digest() = cdir_digest.ToProto();
    }
    auto* dd = inputs.add_directories();
    dd->set_name("dist");
    *dd->mutable_digest() = dist_digest.ToProto();
    auto* l = inputs.add_directories();
    l->set_name("links");
    *l->mutable_digest() = links_root.ToProto();
    ASSIGN_OR_RETURN(Digest resolve_root,
                     cache::WriteBlob(*cas_, inputs.SerializeAsString()));

    // Resolutions run concurrently and may share sdists: each sdist's
    // wheel is built once, under its own lock.
    absl::Mutex built_mu;
    std::map<std::string, Digest> built;  // sdist file -> wheel built from it
    std::map<std::string, std::string>
        built_names;  // sdist file -> wheel file name
    std::map<std::string, std::shared_ptr<absl::Mutex>> sdist_locks;
    auto resolve = [&](const std::string& name,
                       const std::vector<std::string>& extras)
        -> absl::StatusOr<WheelList> {
      ActionSpec r;
      r.input_root = resolve_root;
      std::string req = "/work/dist/" + wheel_file;
      if (!extras.empty()) req += "[" + absl::StrJoin(extras, ",") + "]";
      r.argv = {"python3", "-m", "pip", "install", "--dry-run",
                "--ignore-installed", "--report", "/work/report.json",
                "--find-links", "/work/links",
                // Not --quiet: on a conflict pip explains it at INFO level.
                "--disable-pip-version-check"};
      r.argv.insert(r.argv.end(), constraint_args.begin(),
                    constraint_args.end());
      r.platform = {{"rootfs", builder_rootfs}};
      if (options.index_url.empty()) {
        r.argv.push_back("--no-index");
      } else {
        r.argv.insert(r.argv.end(), {"--index-url", options.index_url});
        for (const std::string& u : options.extra_index_urls) {
          r.argv.insert(r.argv.end(), {"--extra-index-url", u});
        }
        for (const std::string& h : options.trusted_hosts) {
          r.argv.insert(r.argv.end(), {"--trusted-host", h});
        }
        r.platform.emplace_back("network", "egress");
        r.do_not_cache = true;  // the index may have changed since
      }
      r.argv.push_back(req);
      r.output_files = {"report.json"};
      ASSIGN_OR_RETURN(re::ActionResult rr, b.Step("resolve", name, r));
      ASSIGN_OR_RETURN(Digest report_digest, b.OutputFile(rr, "report.json"));
      ASSIGN_OR_RETURN(std::string report_text,
                       cache::ReadBlob(*cas_, report_digest));
      ASSIGN_OR_RETURN(google::protobuf::Struct report,
                       ParseJson(report_text, "resolve report"));
      WheelList out;
      auto it = report.fields().find("install");
      if (it == report.fields().end()) return out;
      for (const auto& item : it->second.list_value().values()) {
        const auto* di = Obj(item.struct_value(), "download_info");
        std::string url = di != nullptr ? Str(*di, "url") : "";
        std::string file = url.substr(url.rfind('/') + 1);
        if (absl::StartsWith(url, "file:///work/dist/"))
          continue;  // the project itself
        Digest dist_digest = Digest::Empty();
        auto lf = link_files.find(file);
        if (absl::StartsWith(url, "file:///work/links/") &&
            lf != link_files.end()) {
          dist_digest = lf->second;
        } else if (absl::StartsWith(url, "http://") ||
                   absl::StartsWith(url, "https://")) {
          // From an index: fetched by URL, verified by sha256, cached.
          std::string sha;
          if (const auto* ai = Obj(*di, "archive_info")) {
            if (const auto* hs = Obj(*ai, "hashes")) sha = Str(*hs, "sha256");
            std::string h = Str(*ai, "hash");
            if (sha.empty() && absl::StartsWith(h, "sha256="))
              sha = h.substr(7);
          }
          std::string clean = url.substr(0, url.find_first_of("#?"));
          file = clean.substr(clean.rfind('/') + 1);
          ActionSpec f;
          ASSIGN_OR_RETURN(f.input_root, b.EmptyDir());
          f.argv = {"python3", "-c", kFetchScript, clean, sha, file};
          f.output_files = {"out/" + file};
          f.platform = {{"rootfs", builder_rootfs}, {"network", "egress"}};
          ASSIGN_OR_RETURN(re::ActionResult fr, b.Step("fetch", file, f));
          ASSIGN_OR_RETURN(dist_digest, b.OutputFile(fr, "out/" + file));
        } else {
          return absl::InternalError(absl::StrCat(
              "resolve chose ", url,
              ", which is neither in --find-links nor on an index"));
        }
        if (absl::EndsWith(file, ".whl")) {
          out.emplace_back(file, dist_digest);
          continue;
        }
        // An sdist: build its wheel in the builder, without network.
        std::shared_ptr<absl::Mutex> file_lock;
        {
          absl::MutexLock lock(&built_mu);
          auto& l = sdist_locks[file];
          if (l == nullptr) l = std::make_shared<absl::Mutex>();
          file_lock = l;
        }
        absl::MutexLock sdist_lock(file_lock.get());
        bool have = false;
        {
          absl::MutexLock lock(&built_mu);
          have = built.count(file) != 0;
        }
        if (!have) {
          re::Directory sd;
          auto* f = sd.add_files();
          f->set_name(file);
          *f->mutable_digest() = dist_digest.ToProto();
          ASSIGN_OR_RETURN(Digest sd_digest,
                           cache::WriteBlob(*cas_, sd.SerializeAsString()));
          ActionSpec w;
          ASSIGN_OR_RETURN(w.input_root, b.Wrap("sdist", sd_digest));
          w.argv = {
              "sh", "-c",
              // Unpacked at a fixed path so compiled code (debug info,
              // build ids) does not depend on a random build dir.
              "mkdir -p /work/build && python3 -c 'import shutil, sys; "
              "shutil.unpack_archive(sys.argv[1], \"/work/build\")' \"$1\" && "
              "python3 -m pip wheel --no-deps --no-build-isolation --no-index "
              "--disable-pip-version-check --wheel-dir /work/out "
              "/work/build/*/",
              "wheel-build", "/work/sdist/" + file};
          w.output_dirs = {"out"};
          w.platform = {{"rootfs", builder_rootfs}};
          ASSIGN_OR_RETURN(re::ActionResult wr, b.Step("wheel-build", file, w));
          ASSIGN_OR_RETURN(auto wheel, b.SingleWheel(wr));
          absl::MutexLock lock(&built_mu);
          built.emplace(file, wheel.second);
          built_names[file] = wheel.first;
        }
        absl::MutexLock lock(&built_mu);
        out.emplace_back(built_names[file], built.at(file));
      }
      return out;
    };
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
          ASSIGN_OR_RETURN(resolved[i], resolve(todo[i].first, todo[i].second));
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
                   b.PythonLayer("base", scheme, all_wheels));
  layers.push_back(python);
  // Byte-code, compiled by the base's Python into its own layer
  // (hash-based .pyc files: deterministic, valid whatever the mtimes).
  std::vector<std::string> lib_dirs = {scheme.purelib};
  if (scheme.platlib != scheme.purelib) lib_dirs.push_back(scheme.platlib);
  auto rootfs_of = [&](const std::vector<common::oci::Layer>& extra) {
    std::vector<common::oci::Layer> all = base.step_layers;
    all.insert(all.end(), extra.begin(), extra.end());
    return RootfsOf(all);
  };
  ASSIGN_OR_RETURN(common::oci::Layer python_pyc,
                   b.BytecodeLayer("base", rootfs_of({python}), lib_dirs));
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
            b.PythonLayer(script, scheme, script_wheels.at(script)));
        ASSIGN_OR_RETURN(
            common::oci::Layer spyc,
            b.BytecodeLayer(script, rootfs_of({python, python_pyc, sl}),
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
  std::vector<std::string> tags = {"latest"};
  for (const std::string& tg : options.tags) {
    if (std::find(tags.begin(), tags.end(), tg) == tags.end())
      tags.push_back(tg);
  }
  std::string prefix = options.prefix.empty() ? "" : options.prefix + "/";
  const std::string revision = GitRevision(*tree);
  struct ImageSpec {
    std::string name;
    std::vector<std::string> cmd;
    std::string script;
  };
  std::vector<ImageSpec> images;
  images.push_back({prefix + ImageNameComponent(meta->name) + "-base", {}, ""});
  for (const auto& [script, target] : meta->console_scripts) {
    images.push_back({prefix + ImageNameComponent(script),
                      {scheme.scripts + "/" + script},
                      script});
  }
  for (const ImageSpec& image : images) {
    const std::string& name = image.name;
    std::vector<common::oci::Layer> image_layers = layers;
    auto sl = script_layers.find(image.script);
    if (!image.script.empty() && sl != script_layers.end()) {
      image_layers.insert(image_layers.end(), sl->second.begin(),
                          sl->second.end());
    }
    common::oci::ImageConfig config;
    config.created = options.source_date_epoch;
    config.cmd = image.cmd;
    config.env = {absl::StrCat("PATH=", kPath), "LANG=C.UTF-8"};
    config.working_dir = "/";
    config.labels = {{"org.opencontainers.image.title", meta->name},
                     {"org.opencontainers.image.version", meta->version},
                     {"org.opencontainers.image.base.digest", base.digest},
                     {"org.opencontainers.image.base.name", base.name}};
    if (!meta->source.empty())
      config.labels["org.opencontainers.image.source"] = meta->source;
    if (!revision.empty())
      config.labels["org.opencontainers.image.revision"] = revision;
    std::vector<std::string> refs;
    for (const std::string& tg : tags)
      refs.push_back(absl::StrCat(name, ":", tg));
    absl::Time ta = absl::Now();
    ASSIGN_OR_RETURN(common::oci::ImageDescriptor desc,
                     sink->Put(image_layers, config, refs));
    b.AddStep(StepReport{"image-assembly", name, false,
                         absl::ToDoubleSeconds(absl::Now() - ta),
                         desc.manifest.ToString()});
    for (const std::string& ref : refs) {
      b.report.images.push_back(
          BuiltImage{ref, "sha256:" + desc.manifest.hash(), desc.size,
                     desc.manifest, desc.config});
    }
  }
  return b.report;
}

}  // namespace pbrx::coordinator
