#include "common/project/project.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/beneath.h"
#include "common/project/ini_file.h"
#include "common/project/python_names.h"
#include "common/status_macros.h"
#include "common/toml.h"

namespace pbrx::common::project {
namespace {

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// A project file is someone else's bytes (an uploaded tree on the farm):
// read beneath the project directory only, never through a symlink, and
// capped (a setup.cfg of several MB still parses).
constexpr int64_t kMaxProjectFile = 16 << 20;

absl::StatusOr<std::optional<std::string>> ReadIfExists(
    const SourceTree& tree, const std::string& name) {
  absl::StatusOr<std::string> r = tree.ReadFile(name, kMaxProjectFile);
  if (r.status().code() == absl::StatusCode::kNotFound) return std::nullopt;
  if (!r.ok()) return r.status();
  return *r;
}

// setuptools' list values: one per line when multi-line, else split at `sep`.
std::vector<std::string> ListValue(absl::string_view value, char sep) {
  std::vector<std::string> out;
  std::vector<absl::string_view> parts;
  if (absl::StrContains(value, '\n')) {
    parts = absl::StrSplit(value, '\n');
  } else {
    parts = absl::StrSplit(value, sep);
  }
  for (absl::string_view p : parts) {
    p = absl::StripAsciiWhitespace(p);
    if (!p.empty() && p.front() != '#') out.push_back(std::string(p));
  }
  return out;
}

absl::Status ParseConsoleScripts(const IniEntry& entry,
                                 const std::string& where,
                                 std::vector<ConsoleScript>* out) {
  int line = entry.line;
  for (absl::string_view l : absl::StrSplit(entry.value, '\n')) {
    l = absl::StripAsciiWhitespace(l);
    if (l.empty()) continue;
    size_t eq = l.find('=');
    std::string loc = absl::StrCat(where, ":", line);
    if (eq == absl::string_view::npos) {
      return Invalid(
          loc, absl::StrCat("console_scripts entry '", l,
                            "' is not of the form 'name = module:function'"));
    }
    std::string name(absl::StripAsciiWhitespace(l.substr(0, eq)));
    std::string target(absl::StripAsciiWhitespace(l.substr(eq + 1)));
    if (name.empty() || target.empty()) {
      return Invalid(
          loc, absl::StrCat("console_scripts entry '", l,
                            "' is not of the form 'name = module:function'"));
    }
    if (absl::Status st = CheckEntryPoint(name, target); !st.ok())
      return Invalid(loc, st.message());
    for (const ConsoleScript& s : *out) {
      if (s.name == name) {
        return Invalid(
            loc, absl::StrCat("console script '", name, "' is defined twice"));
      }
    }
    out->push_back(ConsoleScript{name, target});
  }
  return absl::OkStatus();
}

absl::Status CheckRequirements(const std::vector<std::string>& reqs,
                               const std::string& where) {
  for (const std::string& r : reqs) {
    absl::StatusOr<std::string> name = RequirementName(r);
    if (!name.ok()) return Invalid(where, name.status().message());
  }
  return absl::OkStatus();
}

absl::Status FromSetupCfg(const std::string& dir, const ProjectFiles& files,
                          Project* p) {
  const std::string where = "setup.cfg";
  absl::StatusOr<IniFile> ini = ParseIni(*files.setup_cfg, where);
  if (!ini.ok()) return ini.status();
  const IniSection* metadata = ini->Find("metadata");
  const IniEntry* name = metadata != nullptr ? metadata->Find("name") : nullptr;
  if (name == nullptr || name->value.empty()) {
    return Invalid(
        metadata != nullptr ? absl::StrCat(where, ":", metadata->line) : where,
        "[metadata] has no name: the project has no name");
  }
  if (!IsValidName(name->value)) {
    return Invalid(
        absl::StrCat(where, ":", name->line),
        absl::StrCat("'", name->value, "' is not a valid project name"));
  }
  p->metadata_source = "setup.cfg";
  p->name = name->value;
  bool pbr = ini->Find("pbr") != nullptr ||
             (files.setup_py.has_value() &&
              (absl::StrContains(*files.setup_py, "pbr=True") ||
               absl::StrContains(*files.setup_py, "pbr = True")));
  p->backend = pbr ? "pbr" : "setuptools";
  const IniEntry* version = metadata->Find("version");
  if (version != nullptr && !version->value.empty() &&
      !absl::StartsWith(version->value, "attr:") &&
      !absl::StartsWith(version->value, "file:")) {
    if (!IsVersionText(version->value)) {
      return Invalid(absl::StrCat(where, ":", version->line),
                     absl::StrCat("version '", version->value,
                                  "' is not a version (letters, digits, . + ! "
                                  "_ -, at most 64)"));
    }
    p->version = version->value;
  } else {
    p->dynamic.push_back("version");
  }
  // Console scripts: pbr's [entry_points], setuptools' [options.entry_points].
  for (const char* section : {"entry_points", "options.entry_points"}) {
    const IniSection* s = ini->Find(section);
    const IniEntry* cs = s != nullptr ? s->Find("console_scripts") : nullptr;
    if (cs != nullptr) {
      absl::Status st = ParseConsoleScripts(*cs, where, &p->scripts);
      if (!st.ok()) return st;
    }
  }
  // Extras.
  for (const char* section : {"extras", "options.extras_require"}) {
    const IniSection* s = ini->Find(section);
    if (s == nullptr) continue;
    for (const IniEntry& e : s->entries) {
      if (!IsValidName(e.key)) {
        return Invalid(
            absl::StrCat(where, ":", e.line),
            absl::StrCat("extra '", e.key, "' is not a valid name (PEP 685)"));
      }
      std::vector<std::string> reqs = ListValue(e.value, ';');
      absl::Status st =
          CheckRequirements(reqs, absl::StrCat(where, ":", e.line));
      if (!st.ok()) return st;
      if (p->extras.count(e.key) > 0) {
        return Invalid(absl::StrCat(where, ":", e.line),
                       absl::StrCat("extra '", e.key, "' is defined twice"));
      }
      p->extras[e.key] = std::move(reqs);
    }
  }
  // Requirements.
  const IniSection* options = ini->Find("options");
  const IniEntry* install_requires =
      options != nullptr ? options->Find("install_requires") : nullptr;
  if (install_requires != nullptr) {
    if (absl::StartsWith(install_requires->value, "file:") ||
        absl::StartsWith(install_requires->value, "attr:")) {
      p->dynamic.push_back("dependencies");
    } else {
      p->requirements = ListValue(install_requires->value, ';');
      absl::Status st = CheckRequirements(
          p->requirements, absl::StrCat(where, ":", install_requires->line));
      if (!st.ok()) return st;
    }
  } else if (files.requirements_txt.has_value()) {
    absl::StatusOr<RequirementsFile> reqs =
        ParseRequirementsFile(*files.requirements_txt, "requirements.txt");
    if (!reqs.ok()) return reqs.status();
    p->requirements = reqs->requirements;
    for (const std::string& s : reqs->skipped) {
      p->warnings.push_back(
          absl::StrCat("requirements.txt: option line '", s,
                       "' is not a requirement and was skipped"));
    }
  }
  (void)dir;
  return absl::OkStatus();
}

absl::Status FromPyproject(const ProjectFiles& files, const toml::table& doc,
                           Project* p) {
  const std::string where = "pyproject.toml";
  const toml::table* project = doc["project"].as_table();
  auto line_of = [&](const toml::node* n) {
    return absl::StrCat(where, ":", n != nullptr ? n->source().begin.line : 0);
  };
  p->metadata_source = "pyproject.toml";
  p->backend =
      doc["build-system"]["build-backend"].value<std::string>().value_or(
          "setuptools.build_meta:__legacy__");
  const toml::node* dyn_node = project->get("dynamic");
  if (dyn_node != nullptr) {
    const toml::array* dyn = dyn_node->as_array();
    if (dyn == nullptr)
      return Invalid(line_of(dyn_node), "[project] dynamic must be an array");
    for (const toml::node& d : *dyn) {
      std::optional<std::string> s = d.value<std::string>();
      if (!s)
        return Invalid(line_of(&d),
                       "[project] dynamic entries must be strings");
      p->dynamic.push_back(*s);
    }
  }
  const toml::node* name = project->get("name");
  std::optional<std::string> name_value =
      name != nullptr ? name->value<std::string>() : std::nullopt;
  if (!name_value || name_value->empty()) {
    return Invalid(name != nullptr ? line_of(name) : line_of(project),
                   "[project] has no name (PEP 621 requires a static name)");
  }
  if (!IsValidName(*name_value)) {
    return Invalid(
        line_of(name),
        absl::StrCat("'", *name_value, "' is not a valid project name"));
  }
  p->name = *name_value;
  if (const toml::node* v = project->get("version")) {
    std::optional<std::string> s = v->value<std::string>();
    if (!s) return Invalid(line_of(v), "[project] version must be a string");
    if (!IsVersionText(*s)) {
      return Invalid(line_of(v),
                     absl::StrCat("[project] version '", *s,
                                  "' is not a version (letters, digits, . + ! "
                                  "_ -, at most 64)"));
    }
    p->version = *s;
  } else if (!p->IsDynamic("version")) {
    return Invalid(
        line_of(project),
        "[project] has neither a version nor \"version\" in dynamic");
  }
  if (const toml::node* scripts = project->get("scripts")) {
    const toml::table* t = scripts->as_table();
    if (t == nullptr)
      return Invalid(line_of(scripts), "[project] scripts must be a table");
    for (auto&& [key, value] : *t) {
      std::optional<std::string> target = value.value<std::string>();
      if (!target) {
        return Invalid(line_of(&value),
                       absl::StrCat("script '", std::string(key.str()),
                                    "' must be a string"));
      }
      if (absl::Status st = CheckEntryPoint(std::string(key.str()), *target);
          !st.ok())
        return Invalid(line_of(&value), st.message());
      p->scripts.push_back(ConsoleScript{std::string(key.str()), *target});
    }
    // toml++ tables iterate in key order; keep file order for output.
    std::sort(p->scripts.begin(), p->scripts.end(),
              [&](const ConsoleScript& a, const ConsoleScript& b) {
                return t->get(a.name)->source().begin <
                       t->get(b.name)->source().begin;
              });
  }
  auto string_array = [&](const toml::node* n, const std::string& what,
                          std::vector<std::string>* out) -> absl::Status {
    const toml::array* a = n->as_array();
    if (a == nullptr)
      return Invalid(line_of(n), absl::StrCat(what, " must be an array"));
    for (const toml::node& e : *a) {
      std::optional<std::string> s = e.value<std::string>();
      if (!s)
        return Invalid(line_of(&e),
                       absl::StrCat(what, " entries must be strings"));
      absl::StatusOr<std::string> rn = RequirementName(*s);
      if (!rn.ok()) return Invalid(line_of(&e), rn.status().message());
      out->push_back(*s);
    }
    return absl::OkStatus();
  };
  if (const toml::node* deps = project->get("dependencies")) {
    absl::Status st =
        string_array(deps, "[project] dependencies", &p->requirements);
    if (!st.ok()) return st;
  }
  if (const toml::node* opt = project->get("optional-dependencies")) {
    const toml::table* t = opt->as_table();
    if (t == nullptr) {
      return Invalid(line_of(opt),
                     "[project] optional-dependencies must be a table");
    }
    for (auto&& [key, value] : *t) {
      if (!IsValidName(std::string(key.str()))) {
        return Invalid(line_of(&value),
                       absl::StrCat("extra '", std::string(key.str()),
                                    "' is not a valid name (PEP 685)"));
      }
      std::vector<std::string> reqs;
      absl::Status st = string_array(
          &value,
          absl::StrCat("optional-dependencies '", std::string(key.str()), "'"),
          &reqs);
      if (!st.ok()) return st;
      p->extras[std::string(key.str())] = std::move(reqs);
    }
  }
  (void)files;
  return absl::OkStatus();
}

}  // namespace

bool Project::IsDynamic(const std::string& field) const {
  return std::find(dynamic.begin(), dynamic.end(), field) != dynamic.end() ||
         std::find(dynamic.begin(), dynamic.end(), "all") != dynamic.end();
}

namespace {

absl::StatusOr<Project> ProjectFromFilesWithoutSettings(
    const std::string& dir, const ProjectFiles& files);

// [tool.pbrx]: every key known, every value of the right type; package
// names as Debian and Alpine spell them (they become apt/apk arguments).
absl::Status ReadPbrxSettings(const toml::table& doc, PbrxSettings* out) {
  const toml::node* node = doc["tool"]["pbrx"].node();
  if (node == nullptr) return absl::OkStatus();
  auto where = [](const toml::node& n) {
    return absl::StrCat("pyproject.toml:", n.source().begin.line,
                        ": [tool.pbrx] ");
  };
  const toml::table* t = node->as_table();
  if (t == nullptr)
    return absl::InvalidArgumentError(
        absl::StrCat(where(*node), "must be a table"));
  out->line = static_cast<int>(node->source().begin.line);
  auto strings = [&](const toml::node& n, const std::string& key,
                     std::vector<std::string>* values) -> absl::Status {
    const toml::array* a = n.as_array();
    if (a == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(n), key, ": expected a list of strings"));
    }
    for (const toml::node& e : *a) {
      std::optional<std::string> v = e.value_exact<std::string>();
      if (!v.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(e), key, ": expected a list of strings"));
      }
      values->push_back(*v);
    }
    return absl::OkStatus();
  };
  for (const auto& [k, v] : *t) {
    const std::string key(k.str());
    if (key == "prefix") {
      std::optional<std::string> s = v.value_exact<std::string>();
      if (!s.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(v), "prefix: expected a string"));
      }
      out->prefix = *s;
    } else if (key == "tags") {
      std::vector<std::string> tags;
      RETURN_IF_ERROR(strings(v, key, &tags));
      out->tags = tags;
    } else if (key == "extra-packages" || key == "extra_packages") {
      RETURN_IF_ERROR(strings(v, key, &out->extra_packages));
      for (const std::string& pkg : out->extra_packages) {
        bool ok = !pkg.empty() && pkg.size() <= 100 &&
                  absl::ascii_isalnum(static_cast<unsigned char>(pkg[0]));
        for (char c : pkg) {
          ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                      c == '+' || c == '-' || c == '.' || c == '_');
        }
        if (!ok) {
          return absl::InvalidArgumentError(absl::StrCat(
              where(v), "extra-packages: '", pkg,
              "' is not a package name ([A-Za-z0-9][A-Za-z0-9+._-]*, at most "
              "100)"));
        }
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          where(v), "unknown key '", key, "' (prefix, tags, extra-packages)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Project> ProjectFromFiles(const std::string& dir,
                                         const ProjectFiles& files) {
  ASSIGN_OR_RETURN(Project p, ProjectFromFilesWithoutSettings(dir, files));
  if (files.pyproject_toml.has_value()) {
    ASSIGN_OR_RETURN(toml::table doc,
                     ParseToml(*files.pyproject_toml, "pyproject.toml"));
    RETURN_IF_ERROR(ReadPbrxSettings(doc, &p.pbrx));
  }
  return p;
}

namespace {

absl::StatusOr<Project> ProjectFromFilesWithoutSettings(
    const std::string& dir, const ProjectFiles& files) {
  Project p;
  p.dir = dir;
  if (files.has_bindep_txt) {
    p.bindep_file = "bindep.txt";
  } else if (files.has_other_requirements_txt) {
    p.bindep_file = "other-requirements.txt";
  }
  // A build-backend declared without a [project] table (poetry-core 1.x
  // keeps its metadata in [tool.poetry]): the wheel build still needs it.
  std::string declared_backend;
  if (files.pyproject_toml.has_value()) {
    ASSIGN_OR_RETURN(toml::table doc,
                     ParseToml(*files.pyproject_toml, "pyproject.toml"));
    declared_backend =
        doc["build-system"]["build-backend"].value<std::string>().value_or("");
    if (doc["project"].as_table() != nullptr) {
      absl::Status st = FromPyproject(files, doc, &p);
      if (!st.ok()) return st;
      return p;
    }
    if (doc.contains("project")) {
      return absl::InvalidArgumentError(
          "pyproject.toml: [project] must be a table");
    }
  }
  if (files.setup_cfg.has_value()) {
    absl::StatusOr<IniFile> ini = ParseIni(*files.setup_cfg, "setup.cfg");
    if (!ini.ok()) return ini.status();
    const IniSection* metadata = ini->Find("metadata");
    if (metadata != nullptr || !files.setup_py.has_value()) {
      absl::Status st = FromSetupCfg(dir, files, &p);
      if (!st.ok()) return st;
      return p;
    }
  }
  if (files.setup_py.has_value() || files.pyproject_toml.has_value()) {
    p.metadata_source =
        files.setup_py.has_value() ? "setup.py" : "pyproject.toml";
    p.backend = declared_backend.empty() ? "unknown" : declared_backend;
    p.dynamic = {"all"};
    p.warnings.push_back(
        "no static metadata: name, version, scripts and requirements will come "
        "from the "
        "project's PEP 517 wheel build");
    return p;
  }
  return absl::NotFoundError(absl::StrCat(
      dir,
      ": not a Python project (no pyproject.toml, setup.cfg or setup.py)"));
}

}  // namespace

absl::StatusOr<Project> LoadProject(const std::string& dir) {
  return LoadProject(DirSourceTree(dir));
}

absl::StatusOr<Project> LoadProject(const SourceTree& tree) {
  const std::string& dir = tree.label();
  if (!tree.IsDir(""))
    return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
  ProjectFiles files;
  ASSIGN_OR_RETURN(files.pyproject_toml, ReadIfExists(tree, "pyproject.toml"));
  ASSIGN_OR_RETURN(files.setup_cfg, ReadIfExists(tree, "setup.cfg"));
  ASSIGN_OR_RETURN(files.setup_py, ReadIfExists(tree, "setup.py"));
  ASSIGN_OR_RETURN(files.requirements_txt,
                   ReadIfExists(tree, "requirements.txt"));
  files.has_bindep_txt = tree.IsFile("bindep.txt");
  files.has_other_requirements_txt = tree.IsFile("other-requirements.txt");
  absl::StatusOr<Project> p = ProjectFromFiles(dir, files);
  if (!p.ok()) {
    // Prefix file names with the project directory.
    return absl::Status(p.status().code(),
                        absl::StartsWith(p.status().message(), dir)
                            ? std::string(p.status().message())
                            : absl::StrCat(dir, "/", p.status().message()));
  }
  return p;
}

}  // namespace pbrx::common::project
