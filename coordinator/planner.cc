#include "coordinator/planner.h"

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/bindep/selection.h"
#include "common/project/python_names.h"
#include "coordinator/build_inputs.h"

namespace pbrx::coordinator {
namespace {

namespace bd = common::bindep;
using common::project::NormalizeName;
using common::project::Project;

std::vector<std::string> Packages(const bd::BindepFile& file,
                                  const std::string& profile,
                                  const std::vector<std::string>& atoms) {
  absl::flat_hash_set<std::string> profiles(atoms.begin(), atoms.end());
  profiles.insert(profile);
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  for (const bd::Rule& r : bd::ActiveRules(file, profiles)) {
    if (seen.insert(r.name).second) out.push_back(r.name);
  }
  return out;
}

// The project's extra matching `wanted`: the exact spelling first, then the
// PEP 685 normal form.
const std::string* FindExtra(const Project& p, const std::string& wanted) {
  auto it = p.extras.find(wanted);
  if (it != p.extras.end()) return &it->first;
  std::string norm = NormalizeName(wanted);
  for (const auto& [name, reqs] : p.extras) {
    if (NormalizeName(name) == norm) return &name;
  }
  return nullptr;
}

void AttachExtra(const Project& p, ImagePlan* image,
                 std::vector<std::string>* warnings) {
  const std::string* found = FindExtra(p, image->wanted_extra);
  if (found != nullptr) {
    image->extras.push_back(*found);
    image->extra_requirements = p.extras.at(*found);
  } else if (!p.IsDynamic("optional-dependencies")) {
    // What pip prints when asked for an extra a project lacks.
    warnings->push_back(absl::StrCat(
        p.name, " ", p.version.value_or("(version from the build)"),
        " does not provide the extra '", image->wanted_extra, "' (image ",
        image->name, ")"));
  }
}

}  // namespace

std::string ImageNameComponent(const std::string& name) {
  std::string out;
  for (char c : absl::AsciiStrToLower(name)) {
    bool ok = absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : '-');
  }
  return out;
}

absl::Status ValidatePlanOptions(const PlanOptions& options) {
  return ValidateImageNaming(options.prefix, options.tags, FieldNames::kFlags);
}

absl::StatusOr<Naming> EffectiveNaming(const Project& p,
                                       const PlanOptions& options) {
  Naming n{options.prefix, options.tags};
  if (p.pbrx.prefix.has_value() && options.pinned.count("prefix") == 0)
    n.prefix = *p.pbrx.prefix;
  if (p.pbrx.tags.has_value() && options.pinned.count("tags") == 0)
    n.tags = *p.pbrx.tags;
  if (absl::Status s = ValidateImageNaming(
          p.pbrx.prefix.value_or(""),
          p.pbrx.tags.value_or(std::vector<std::string>{}), FieldNames::kFlags);
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pyproject.toml:", p.pbrx.line, ": [tool.pbrx] ", s.message()));
  }
  return n;
}

ProjectPlan PlanProject(const Project& p,
                        const std::optional<bd::BindepFile>& bindep,
                        const PlanOptions& options) {
  ProjectPlan plan;
  plan.project = p;
  plan.warnings = p.warnings;
  const Naming naming = EffectiveNaming(p, options)
                            .value_or(Naming{options.prefix, options.tags});
  const std::vector<std::string> tags = ImageTags(naming.tags);
  std::string prefix = naming.prefix.empty() ? "" : naming.prefix + "/";
  auto refs = [&](const std::string& name) {
    std::vector<std::string> out;
    for (const std::string& t : tags) out.push_back(absl::StrCat(name, ":", t));
    return out;
  };

  if (bindep.has_value()) {
    plan.compile_packages =
        Packages(*bindep, "compile", options.platform_atoms);
    plan.runtime_packages =
        Packages(*bindep, "default", options.platform_atoms);
  }
  for (const std::string& pkg : p.pbrx.extra_packages) {
    if (std::find(plan.runtime_packages.begin(), plan.runtime_packages.end(),
                  pkg) == plan.runtime_packages.end())
      plan.runtime_packages.push_back(pkg);
  }

  plan.images_known = !p.name.empty() && !p.IsDynamic("scripts");
  if (plan.images_known) {
    ImagePlan base;
    base.kind = "base";
    base.name = prefix + ImageNameComponent(p.name) + "-base";
    base.refs = refs(base.name);
    base.wanted_extra = absl::StrReplaceAll(p.name, {{"-", "_"}}) + "_base";
    AttachExtra(p, &base, &plan.warnings);
    plan.images.push_back(std::move(base));
    for (const auto& s : p.scripts) {
      ImagePlan img;
      img.kind = "script";
      img.name = prefix + ImageNameComponent(s.name);
      img.refs = refs(img.name);
      img.script = s.name;
      img.entry_point = s.entry_point;
      img.cmd = {absl::StrCat(options.scripts_dir, "/", s.name)};
      img.wanted_extra = absl::StrReplaceAll(s.name, {{"-", "_"}});
      AttachExtra(p, &img, &plan.warnings);
      plan.images.push_back(std::move(img));
    }
  }

  // The steps, in dependency order.
  auto step = [&](std::string kind, std::string name, std::string detail) {
    plan.steps.push_back(
        StepPlan{std::move(kind), std::move(name), std::move(detail)});
  };
  step("base-probe", "base",
       "os-release, Python, install scheme and wheel tags of the base");
  step("distro-layer", "builder",
       plan.compile_packages.empty()
           ? "build tools only"
           : absl::StrCat("build tools + ",
                          absl::StrJoin(plan.compile_packages, " ")));
  step(
      "project-wheel", p.name.empty() ? "project" : p.name,
      absl::StrCat(
          "PEP 517 build with ", p.backend,
          p.version.has_value() ? "" : " (its version comes from this build)"));
  std::vector<std::string> resolve_extras;
  for (const ImagePlan& img : plan.images) {
    resolve_extras.insert(resolve_extras.end(), img.extras.begin(),
                          img.extras.end());
  }
  step(
      "resolve", "requirements",
      absl::StrCat(p.IsDynamic("dependencies")
                       ? "requirements from the wheel's METADATA"
                       : absl::StrCat(p.requirements.size(), " requirement(s)"),
                   resolve_extras.empty()
                       ? ""
                       : absl::StrCat(" + extras ",
                                      absl::StrJoin(resolve_extras, ", "))));
  step("fetch", "dists", "one per resolved distribution (known after resolve)");
  step("wheel-build", "sdists",
       "one per sdist without a matching wheel (known after resolve)");
  if (!plan.runtime_packages.empty()) {
    step("distro-layer", "runtime", absl::StrJoin(plan.runtime_packages, " "));
  }
  step("packages-probe", "image",
       "the distro packages of the images' rootfs, for their SBOMs");
  if (plan.images_known) {
    step("python-layer", "base",
         "the project and its requirements (+ base extra)");
    for (const ImagePlan& img : plan.images) {
      if (img.kind == "script" && !img.extras.empty()) {
        step("python-layer", img.script, absl::StrCat("extra ", img.extras[0]));
      }
    }
    for (const ImagePlan& img : plan.images)
      step("image-assembly", img.name, img.refs[0]);
  } else {
    step("image-assembly", "images", "names known after project-wheel");
  }
  return plan;
}

std::vector<std::string> FindImageClashes(
    const std::vector<ProjectPlan>& plans) {
  std::vector<std::string> out;
  absl::flat_hash_map<std::string, std::string>
      owner;  // image name -> project dir
  for (const ProjectPlan& plan : plans) {
    for (const ImagePlan& img : plan.images) {
      auto [it, inserted] = owner.try_emplace(img.name, plan.project.dir);
      if (!inserted) {
        out.push_back(
            absl::StrCat("image '", img.name, "' of project ", plan.project.dir,
                         " clashes with project ", it->second,
                         img.kind == "script"
                             ? " (duplicate script name '" + img.script + "')"
                             : ""));
      }
    }
  }
  return out;
}

}  // namespace pbrx::coordinator
