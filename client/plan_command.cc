#include "client/plan_command.h"

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli.h"
#include "common/bindep/bindep_file.h"
#include "common/bindep/platform.h"
#include "common/json_writer.h"
#include "common/project/project.h"
#include "coordinator/planner.h"

namespace pbrx::client {

const char kDefaultBaseOsRelease[] =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian "
    "GNU/Linux\"\n"
    "VERSION_ID=\"12\"\nVERSION=\"12 "
    "(bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";

namespace {

namespace bd = common::bindep;
using coordinator::ImagePlan;
using coordinator::PlanOptions;
using coordinator::ProjectPlan;

int UsageError(PlanCommandIo& io, const std::string& message) {
  return client::UsageError(*io.err, "plan", message);
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return !f.bad();
}

void WriteText(const ProjectPlan& plan, const std::vector<std::string>& atoms,
               std::ostream& out) {
  const auto& p = plan.project;
  out << (p.name.empty() ? "(name from the wheel build)" : p.name) << " "
      << p.version.value_or("(version from the wheel build)") << "  [" << p.dir
      << "]\n";
  out << "  metadata: " << p.metadata_source << " (" << p.backend << ")";
  if (!p.dynamic.empty())
    out << ", from the wheel build: " << absl::StrJoin(p.dynamic, ", ");
  out << "\n  images:\n";
  if (!plan.images_known) out << "    (known after the project-wheel step)\n";
  for (const ImagePlan& img : plan.images) {
    out << "    " << absl::StrJoin(img.refs, " ");
    if (!img.cmd.empty()) out << "  CMD " << absl::StrJoin(img.cmd, " ");
    out << "  extras: "
        << (img.extras.empty() ? "(none)" : absl::StrJoin(img.extras, ","))
        << "\n";
  }
  out << "  distro packages (" << absl::StrJoin(atoms, " ") << "):\n";
  out << "    compile: "
      << (p.bindep_file.empty() ? "(no bindep.txt)"
                                : absl::StrJoin(plan.compile_packages, " "))
      << "\n";
  out << "    runtime: "
      << (p.bindep_file.empty() ? "(no bindep.txt)"
                                : absl::StrJoin(plan.runtime_packages, " "))
      << "\n";
  out << "  steps:\n";
  for (const auto& s : plan.steps) {
    out << "    " << s.kind << " " << s.name << ": " << s.detail << "\n";
  }
  for (const std::string& w : plan.warnings) out << "  warning: " << w << "\n";
}

void WriteJson(const ProjectPlan& plan, common::JsonWriter& w) {
  const auto& p = plan.project;
  w.BeginObject();
  w.Key("dir").String(p.dir);
  w.Key("name");
  if (p.name.empty()) {
    w.Null();
  } else {
    w.String(p.name);
  }
  w.Key("version");
  if (p.version.has_value()) {
    w.String(*p.version);
  } else {
    w.Null();
  }
  w.Key("metadata").BeginObject();
  w.Key("source").String(p.metadata_source);
  w.Key("backend").String(p.backend);
  w.Key("dynamic").StringArray(p.dynamic);
  w.EndObject();
  w.Key("requirements").StringArray(p.requirements);
  w.Key("extras").BeginObject();
  for (const auto& [name, reqs] : p.extras) w.Key(name).StringArray(reqs);
  w.EndObject();
  w.Key("images_known").Bool(plan.images_known);
  w.Key("images").BeginArray();
  for (const ImagePlan& img : plan.images) {
    w.BeginObject();
    w.Key("kind").String(img.kind);
    w.Key("name").String(img.name);
    w.Key("refs").StringArray(img.refs);
    w.Key("script");
    if (img.kind == "script") {
      w.String(img.script);
    } else {
      w.Null();
    }
    w.Key("entry_point");
    if (img.kind == "script") {
      w.String(img.entry_point);
    } else {
      w.Null();
    }
    w.Key("cmd").StringArray(img.cmd);
    w.Key("wanted_extra").String(img.wanted_extra);
    w.Key("extras").StringArray(img.extras);
    w.Key("extra_requirements").StringArray(img.extra_requirements);
    w.EndObject();
  }
  w.EndArray();
  w.Key("bindep_file");
  if (p.bindep_file.empty()) {
    w.Null();
  } else {
    w.String(p.bindep_file);
  }
  w.Key("distro_packages").BeginObject();
  w.Key("compile").StringArray(plan.compile_packages);
  w.Key("runtime").StringArray(plan.runtime_packages);
  w.EndObject();
  w.Key("steps").BeginArray();
  for (const auto& s : plan.steps) {
    w.BeginObject()
        .Key("kind")
        .String(s.kind)
        .Key("name")
        .String(s.name)
        .Key("detail")
        .String(s.detail);
    w.EndObject();
  }
  w.EndArray();
  w.Key("warnings").StringArray(plan.warnings);
  w.EndObject();
}

}  // namespace

void AddPlanFlags(common::FlagParser& p, PlanFlags* f) {
  p.SetSynopsis("[FLAGS] DIR...");
  p.SetDescription(
      "Shows what `pbrx build-images` will make and need for each project "
      "DIR, from its static metadata, without building anything: the "
      "images (names, tags, commands, extras), the distro packages of the "
      "builder and of the images (bindep.txt), and the build steps. The "
      "target platform defaults to the default base (Debian 12).\n\n"
      "Exit codes: 0 every project planned, 1 a project could not be "
      "planned (the others are still shown), 2 usage error.");
  p.AddString("prefix", &f->options.prefix,
              "image name prefix, as build-images' --prefix");
  p.SetValueName("prefix", "P");
  p.SetEnvironment("prefix", "PBRX_PREFIX");
  p.AddStringList("tag", &f->options.tags, "image tags (default: latest)");
  p.SetValueName("tag", "T");
  p.AddString("os-release", &f->os_release,
              "plan for the distribution this os-release file describes");
  p.SetValueName("os-release", "FILE");
  p.AddStringList("platform", &f->platforms,
                  "plan for these bindep platform selectors instead (e.g. "
                  "platform:dpkg, platform:debian)");
  p.SetValueName("platform", "SEL");
  p.AddBool("json", &f->json,
            "print the plan as JSON (schema pbrx.plan/v2, "
            "docs/plan-json.md)");
  p.AllowPositionals(&f->dirs);
  p.AddExample("pbrx plan .", "the plan of the project in .");
  p.AddExample("pbrx plan --os-release /etc/os-release --json a b",
               "the plans of a and b for this host's distribution, as JSON");
}

int RunPlanCommand(const std::vector<std::string>& args, PlanCommandIo& io) {
  PlanFlags f;
  common::FlagParser parser("pbrx plan");
  AddPlanFlags(parser, &f);
  if (std::optional<int> rc =
          ParseCommand(parser, "plan", args, *io.out, *io.err, std::getenv)) {
    return *rc;
  }
  PlanOptions& options = f.options;
  options.pinned = PinnedSettings(parser);
  const std::string& os_release = f.os_release;
  const std::vector<std::string>& platforms = f.platforms;
  const bool json = f.json;
  const std::vector<std::string>& dirs = f.dirs;
  if (dirs.empty()) return UsageError(io, "no project directory given");
  if (!os_release.empty() && !platforms.empty()) {
    return UsageError(io, "--os-release and --platform cannot be combined");
  }
  if (absl::Status s = coordinator::ValidatePlanOptions(options); !s.ok()) {
    return UsageError(io, std::string(s.message()));
  }

  // The target platform.
  if (!platforms.empty()) {
    options.platform_atoms = bd::PlatformFromSelectors(platforms).atoms;
  } else {
    std::string text = kDefaultBaseOsRelease;
    if (!os_release.empty() && !ReadFile(os_release, &text)) {
      *io.err << "pbrx plan: cannot read os-release file " << os_release
              << "\n";
      return 1;
    }
    auto fields = bd::ParseOsRelease(
        text, os_release.empty() ? "default base" : os_release);
    absl::StatusOr<bd::Platform> platform =
        fields.ok() ? bd::PlatformFromDistro(bd::DistroFromOsRelease(*fields))
                    : absl::StatusOr<bd::Platform>(fields.status());
    if (!platform.ok()) {
      *io.err << "pbrx plan: " << os_release << ": "
              << platform.status().message() << "\n";
      return 1;
    }
    options.platform_atoms = platform->atoms;
  }

  std::vector<ProjectPlan> plans;
  bool failed = false;
  for (const std::string& dir : dirs) {
    absl::StatusOr<common::project::Project> project =
        common::project::LoadProject(dir);
    if (!project.ok()) {
      *io.err << "pbrx plan: " << project.status().message() << "\n";
      failed = true;
      continue;
    }
    std::optional<bd::BindepFile> bindep;
    if (!project->bindep_file.empty()) {
      std::string path = dir + "/" + project->bindep_file, text;
      if (!ReadFile(path, &text)) {
        *io.err << "pbrx plan: cannot read " << path << "\n";
        failed = true;
        continue;
      }
      absl::StatusOr<bd::BindepFile> parsed = bd::ParseBindepFile(text, path);
      if (!parsed.ok()) {
        *io.err << "pbrx plan: " << parsed.status().message() << "\n";
        failed = true;
        continue;
      }
      bindep = std::move(*parsed);
    }
    if (absl::StatusOr<coordinator::Naming> naming =
            coordinator::EffectiveNaming(*project, options);
        !naming.ok()) {
      *io.err << "pbrx plan: " << dir << "/" << naming.status().message()
              << "\n";
      failed = true;
      continue;
    }
    plans.push_back(coordinator::PlanProject(*project, bindep, options));
  }
  std::vector<std::string> clashes = coordinator::FindImageClashes(plans);
  for (const std::string& c : clashes) *io.err << "pbrx plan: " << c << "\n";
  if (!clashes.empty()) failed = true;

  if (json) {
    common::JsonWriter w;
    w.BeginObject();
    w.Key("schema").String("pbrx.plan/v2");
    w.Key("platform").StringArray(options.platform_atoms);
    w.Key("prefix").String(options.prefix);
    w.Key("projects").BeginArray();
    for (const ProjectPlan& plan : plans) WriteJson(plan, w);
    w.EndArray();
    w.Key("errors").StringArray(clashes);
    w.EndObject();
    *io.out << w.str();
  } else {
    for (size_t i = 0; i < plans.size(); ++i) {
      if (i > 0) *io.out << "\n";
      WriteText(plans[i], options.platform_atoms, *io.out);
    }
  }
  return failed ? 1 : 0;
}

}  // namespace pbrx::client
