#include "coordinator/pipeline/layer_steps.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "cache/blob_store.h"
#include "common/status_macros.h"
#include "common/step_tool.h"
#include "coordinator/pipeline/distro_packages.h"

namespace pbrx::coordinator {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

absl::StatusOr<common::oci::Layer> PackageLayer(
    StepRunner& steps, const std::string& name, const std::string& rootfs,
    common::bindep::PackageManager manager,
    const std::vector<std::string>& packages, const std::string& sources) {
  ASSIGN_OR_RETURN(PackageInstall install,
                   InstallPackagesCommand(manager, packages, !sources.empty()));
  ActionSpec s;
  s.argv = install.argv;
  s.env = install.env;
  ASSIGN_OR_RETURN(s.input_root, steps.EmptyDir());
  if (!sources.empty()) {
    // /work/sources.list and an empty /work/sources.list.d (apt), or
    // /work/repositories (apk).
    const bool apk = manager == common::bindep::PackageManager::kApk;
    re::Directory root;
    if (!apk) {
      auto* parts = root.add_directories();
      parts->set_name("sources.list.d");
      *parts->mutable_digest() = s.input_root.ToProto();
    }
    auto* f = root.add_files();
    f->set_name(apk ? "repositories" : "sources.list");
    ASSIGN_OR_RETURN(Digest text, cache::WriteBlob(steps.cas(), sources));
    *f->mutable_digest() = text.ToProto();
    ASSIGN_OR_RETURN(s.input_root,
                     cache::WriteBlob(steps.cas(), root.SerializeAsString()));
  }
  s.platform = {
      {"rootfs", rootfs}, {"capture", "rootfs-diff"}, {"network", "egress"}};
  ASSIGN_OR_RETURN(re::ActionResult r, steps.Step("distro-layer", name, s));
  return steps.CapturedLayer(r);
}

absl::StatusOr<common::oci::Layer> PythonLayer(
    StepRunner& steps, const std::string& name, const Scheme& scheme,
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
  ASSIGN_OR_RETURN(
      Digest wheels_digest,
      cache::WriteBlob(steps.cas(), wheel_dir.SerializeAsString()));
  common::InstallWheelsArgs args;
  args.python = scheme.python;
  args.purelib = scheme.purelib;
  args.platlib = scheme.platlib;
  args.scripts = scheme.scripts;
  args.data = scheme.data;
  args.include = scheme.include;
  args.mtime = steps.source_date_epoch();
  for (const auto& [file, d] : wheels) args.wheels.push_back("wheels/" + file);
  ActionSpec s;
  s.argv = common::InstallWheelsArgv(args);
  ASSIGN_OR_RETURN(s.input_root, steps.Wrap("wheels", wheels_digest));
  s.output_files = {"layer.tar.gz", "layer.diff_id"};
  s.platform = {{common::kStepToolsProperty, common::kStepToolsVersion}};
  ASSIGN_OR_RETURN(re::ActionResult r, steps.Step("python-layer", name, s));
  return steps.LayerOutputs(r, "layer.tar.gz", "layer.diff_id");
}

absl::StatusOr<common::oci::Layer> BytecodeLayer(
    StepRunner& steps, const std::string& name, const std::string& rootfs,
    const std::vector<std::string>& dirs) {
  ActionSpec s;
  s.argv = {"python3",       "-m", "compileall", "-q", "--invalidation-mode",
            "unchecked-hash"};
  s.argv.insert(s.argv.end(), dirs.begin(), dirs.end());
  // Only the requested files: importing compileall must not leave stdlib
  // .pyc files in the layer.
  s.env = {{"PYTHONDONTWRITEBYTECODE", "1"}};
  ASSIGN_OR_RETURN(s.input_root, steps.EmptyDir());
  s.platform = {{"rootfs", rootfs}, {"capture", "rootfs-diff"}};
  ASSIGN_OR_RETURN(re::ActionResult r, steps.Step("bytecode", name, s));
  return steps.CapturedLayer(r);
}

}  // namespace pbrx::coordinator
