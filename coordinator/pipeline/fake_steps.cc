#include "coordinator/pipeline/fake_steps.h"

#include <algorithm>
#include <regex>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "cache/cas_source_tree.h"
#include "cache/directory_tree.h"
#include "common/project/project.h"
#include "common/project/python_names.h"
#include "common/status_macros.h"
#include "common/step_tool.h"
#include "common/wheel/wheel_metadata.h"
#include "tests/zip_writer.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;
using common::project::NormalizeName;

constexpr char kProbeJson[] = R"({
  "python": "/usr/bin/python3",
  "paths": {"purelib": "/usr/local/lib/python3.11/dist-packages",
            "platlib": "/usr/local/lib/python3.11/dist-packages",
            "scripts": "/usr/local/bin", "data": "/usr/local",
            "include": "/usr/local/include/python3.11"},
  "os_release": {"ID": "debian", "VERSION_ID": "12",
                 "VERSION_CODENAME": "bookworm"}
})";

constexpr char kPackagesJson[] = R"({
  "manager": "dpkg",
  "os_release": {"ID": "debian", "VERSION_ID": "12",
                 "VERSION_CODENAME": "bookworm"},
  "packages": [{"name": "libc6", "version": "2.36-9+deb12u4",
                "arch": "amd64", "source": "glibc"},
               {"name": "python3", "version": "3.11.2-1+b1",
                "arch": "amd64", "source": "python3-defaults"}]
})";

absl::StatusOr<re::Directory> ReadDirectory(cache::BlobStore& cas,
                                            const Digest& d) {
  ASSIGN_OR_RETURN(std::string bytes, cache::ReadBlob(cas, d));
  re::Directory dir;
  if (!dir.ParseFromString(bytes))
    return absl::InvalidArgumentError("not a Directory");
  return dir;
}

// The subdirectory `name` of the tree `root`.
absl::StatusOr<re::Directory> SubDirectory(cache::BlobStore& cas,
                                           const Digest& root,
                                           const std::string& name,
                                           Digest* digest = nullptr) {
  ASSIGN_OR_RETURN(re::Directory dir, ReadDirectory(cas, root));
  for (const auto& d : dir.directories()) {
    if (d.name() != name) continue;
    ASSIGN_OR_RETURN(Digest child, Digest::FromProto(d.digest()));
    if (digest != nullptr) *digest = child;
    return ReadDirectory(cas, child);
  }
  return absl::NotFoundError(absl::StrCat("the input root has no ", name));
}

absl::Status AddFile(cache::BlobStore& cas, re::ActionResult* r,
                     const std::string& path, const std::string& bytes) {
  ASSIGN_OR_RETURN(Digest d, cache::WriteBlob(cas, bytes));
  auto* f = r->add_output_files();
  f->set_path(path);
  *f->mutable_digest() = d.ToProto();
  return absl::OkStatus();
}

// An output directory `path` holding one file.
absl::Status AddDirWithFile(cache::BlobStore& cas, re::ActionResult* r,
                            const std::string& path, const std::string& file,
                            const std::string& bytes) {
  ASSIGN_OR_RETURN(Digest d, cache::WriteBlob(cas, bytes));
  re::Tree tree;
  auto* f = tree.mutable_root()->add_files();
  f->set_name(file);
  *f->mutable_digest() = d.ToProto();
  ASSIGN_OR_RETURN(Digest t, cache::WriteBlob(cas, tree.SerializeAsString()));
  auto* o = r->add_output_directories();
  o->set_path(path);
  *o->mutable_tree_digest() = t.ToProto();
  return absl::OkStatus();
}

// A layer as the outputs STEM.tar.gz and STEM.diff_id, its bytes and
// diff_id derived from `seed`.
absl::Status AddLayer(cache::BlobStore& cas, re::ActionResult* r,
                      const std::string& stem, const std::string& seed) {
  RETURN_IF_ERROR(AddFile(cas, r, stem + ".tar.gz", "layer of " + seed));
  return AddFile(cas, r, stem + ".diff_id",
                 "sha256:" + Digest::Of("tar of " + seed).hash() + "\n");
}

// The wheel of the project whose sources are the input root's src/.
absl::Status ProjectWheel(cache::BlobStore& cas, const Digest& input_root,
                          re::ActionResult* r) {
  Digest src = Digest::Empty();
  RETURN_IF_ERROR(SubDirectory(cas, input_root, "src", &src).status());
  cache::CasSourceTree tree(&cas, src, "src");
  ASSIGN_OR_RETURN(common::project::Project p,
                   common::project::LoadProject(tree));
  const std::string version = p.version.value_or("0");
  std::string metadata = absl::StrCat("Metadata-Version: 2.1\nName: ", p.name,
                                      "\nVersion: ", version, "\n");
  for (const std::string& req : p.requirements)
    absl::StrAppend(&metadata, "Requires-Dist: ", req, "\n");
  for (const auto& [extra, reqs] : p.extras) {
    absl::StrAppend(&metadata, "Provides-Extra: ", extra, "\n");
    for (const std::string& req : reqs) {
      absl::StrAppend(&metadata, "Requires-Dist: ", req, "; extra == \"", extra,
                      "\"\n");
    }
  }
  std::string stem = absl::StrCat(
      absl::StrReplaceAll(NormalizeName(p.name), {{"-", "_"}}), "-", version);
  std::string entry_points = "[console_scripts]\n";
  for (const auto& s : p.scripts)
    absl::StrAppend(&entry_points, s.name, " = ", s.entry_point, "\n");
  std::optional<std::string> zip = testing_util::ZipBytes(
      {{stem + ".dist-info/METADATA", metadata},
       {stem + ".dist-info/entry_points.txt", entry_points}});
  if (!zip.has_value()) return absl::InternalError("cannot write the wheel");
  return AddDirWithFile(cas, r, "dist", stem + "-py3-none-any.whl", *zip);
}

// The distribution name of a wheel or sdist file name.
std::string DistName(const std::string& file) {
  if (absl::EndsWith(file, ".whl"))
    return NormalizeName(file.substr(0, file.find('-')));
  std::string stem = file.substr(0, file.find(".tar.gz"));
  return NormalizeName(stem.substr(0, stem.rfind('-')));
}

// The pip report of resolving `requirement` ("/work/dist/FILE[E1,E2]");
// the log when a requirement has no file.
absl::Status Resolve(cache::BlobStore& cas, const Digest& input_root,
                     const std::string& requirement, re::ActionResult* r,
                     std::string* log) {
  std::string file = requirement.substr(requirement.rfind('/') + 1);
  std::set<std::string> extras;
  if (size_t b = file.find('['); b != std::string::npos) {
    for (absl::string_view e :
         absl::StrSplit(file.substr(b + 1, file.size() - b - 2), ','))
      extras.insert(NormalizeName(e));
    file = file.substr(0, b);
  }
  ASSIGN_OR_RETURN(re::Directory dist, SubDirectory(cas, input_root, "dist"));
  std::string wheel;
  for (const auto& f : dist.files()) {
    if (f.name() != file) continue;
    ASSIGN_OR_RETURN(Digest d, Digest::FromProto(f.digest()));
    ASSIGN_OR_RETURN(wheel, cache::ReadBlob(cas, d));
  }
  ASSIGN_OR_RETURN(common::wheel::WheelMetadata meta,
                   common::wheel::ParseWheelMetadata(file, wheel));
  ASSIGN_OR_RETURN(re::Directory links, SubDirectory(cas, input_root, "links"));
  static const std::regex kExtra(R"(extra\s*==\s*['"]([^'"]+)['"])");
  std::vector<std::string> urls = {"file:///work/dist/" + file};
  for (const std::string& line : meta.requires_dist) {
    std::string req = line.substr(0, line.find(';'));
    std::string marker =
        line.find(';') == std::string::npos ? "" : line.substr(line.find(';'));
    std::smatch m;
    if (!marker.empty() && (!std::regex_search(marker, m, kExtra) ||
                            extras.count(NormalizeName(m[1].str())) == 0))
      continue;
    std::string name =
        NormalizeName(req.substr(0, req.find_first_of(" <>=!~[(")));
    std::string found;
    for (const auto& f : links.files()) {
      if (DistName(f.name()) == name) found = f.name();
    }
    if (found.empty()) {
      *log = absl::StrCat("ERROR: No matching distribution found for ", name,
                          "\n");
      return absl::OkStatus();
    }
    urls.push_back("file:///work/links/" + found);
  }
  std::vector<std::string> items;
  for (const std::string& u : urls)
    items.push_back(
        absl::StrCat("{\"download_info\": {\"url\": \"", u, "\"}}"));
  return AddFile(
      cas, r, "report.json",
      absl::StrCat("{\"install\": [", absl::StrJoin(items, ","), "]}"));
}

bool Has(const std::vector<std::string>& argv, const std::string& arg) {
  return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

}  // namespace

std::string FakeSteps::KindOf(const Call& c) {
  const std::vector<std::string>& a = c.argv;
  if (Has(a, common::kStepToolMarker))
    return Has(a, "debian-base") ? "base" : "python-layer";
  if (Has(a, "compileall")) return "bytecode";
  if (Has(a, "--dry-run")) return "resolve";
  if (Has(a, "wheel-build")) return "wheel-build";
  if (Has(a, "/work/src")) return "project-wheel";
  auto capture = c.platform.find("capture");
  if (capture != c.platform.end() && capture->second == "rootfs-diff")
    return "distro-layer";
  if (a.size() == 3 && a[1] == "-c")
    return absl::StrContains(a[2], "packages.json") ? "packages-probe"
                                                    : "base-probe";
  if (a.size() == 6 && a[1] == "-c") return "fetch";
  return "";
}

void FakeSteps::Fail(const std::string& kind, int exit_code,
                     const std::string& log) {
  absl::MutexLock lock(&mu_);
  failures_[kind] = {exit_code, log};
}

std::vector<FakeSteps::Call> FakeSteps::Calls() {
  absl::MutexLock lock(&mu_);
  return calls_;
}

absl::StatusOr<common::ActionOutcome> FakeSteps::Run(
    const Digest& action_digest, const common::ExecuteOptions& options) {
  // As an executor: the caller's messages when they hash to the digests.
  ASSIGN_OR_RETURN(re::Action action,
                   cache::KnownOrReadProtoBlob(cas_, action_digest.ToProto(),
                                               options.action, "action"));
  ASSIGN_OR_RETURN(re::Command command,
                   cache::KnownOrReadProtoBlob(cas_, action.command_digest(),
                                               options.command, "command"));
  Call call;
  call.argv.assign(command.arguments().begin(), command.arguments().end());
  for (const auto& p : action.platform().properties())
    call.platform[p.name()] = p.value();
  call.kind = options.kind.empty() ? KindOf(call) : options.kind;
  ASSIGN_OR_RETURN(call.input_root,
                   Digest::FromProto(action.input_root_digest()));

  common::ActionOutcome out;
  std::string log;
  std::pair<int, std::string> failure = {0, ""};
  {
    absl::MutexLock lock(&mu_);
    auto f = failures_.find(call.kind);
    if (f != failures_.end()) failure = f->second;
  }
  if (failure.first != 0) {
    out.result.set_exit_code(failure.first);
    log = failure.second;
  } else {
    RETURN_IF_ERROR(Answer(call.kind, call, &out.result, &log));
    if (!log.empty()) {
      out.result.clear_output_files();
      out.result.set_exit_code(1);
    }
  }
  if (!log.empty()) {
    ASSIGN_OR_RETURN(Digest d, cache::WriteBlob(cas_, log));
    *out.result.mutable_stderr_digest() = d.ToProto();
  }
  call.result = out.result;
  absl::MutexLock lock(&mu_);
  calls_.push_back(std::move(call));
  return out;
}

absl::Status FakeSteps::Answer(const std::string& kind, const Call& call,
                               re::ActionResult* r, std::string* log) {
  // Seeds layer bytes: the whole call, so distinct steps differ.
  const std::string seed = absl::StrCat(
      kind, " ", absl::StrJoin(call.argv, " "), " ", call.input_root.ToString(),
      " ", absl::StrJoin(call.platform, ",", absl::PairFormatter("=")));
  if (kind == "base") return AddLayer(cas_, r, "base", seed);
  if (kind == "base-probe") return AddFile(cas_, r, "probe.json", kProbeJson);
  if (kind == "packages-probe")
    return AddFile(cas_, r, "packages.json", kPackagesJson);
  if (kind == "distro-layer" || kind == "bytecode")
    return AddLayer(cas_, r, "rootfs-diff", seed);
  if (kind == "python-layer") return AddLayer(cas_, r, "layer", seed);
  if (kind == "project-wheel") return ProjectWheel(cas_, call.input_root, r);
  if (kind == "resolve")
    return Resolve(cas_, call.input_root, call.argv.back(), r, log);
  if (kind == "fetch") {
    const std::string& file = call.argv.back();
    return AddFile(cas_, r, "out/" + file, "fetched " + call.argv[3]);
  }
  if (kind == "wheel-build") {
    std::string sdist = call.argv.back();
    sdist = sdist.substr(sdist.rfind('/') + 1);
    std::string stem = sdist.substr(0, sdist.find(".tar.gz"));
    return AddDirWithFile(cas_, r, "out", stem + "-py3-none-any.whl",
                          "wheel of " + sdist);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("FakeSteps: no answer for a step of kind '", kind, "'"));
}

}  // namespace pbrx::coordinator
