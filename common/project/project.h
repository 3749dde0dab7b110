// The project model: what a Python project's static metadata says about its
// name, version, console scripts, requirements and extras, read without
// running Python. Sources, in order:
//   pyproject.toml with a [project] table (PEP 621; fields listed in
//     `dynamic` are marked as coming from the wheel build);
//   setup.cfg with [metadata] name (pbr or declarative setuptools: scripts
//     from [entry_points] / [options.entry_points] console_scripts, extras
//     from [extras] / [options.extras_require], requirements from
//     requirements.txt (pbr) or [options] install_requires);
//   setup.py alone: nothing is known statically; everything comes from the
//     project's PEP 517 wheel build (the image pipeline), never a guess.
// The bindep.txt (or other-requirements.txt) next to it is noted too.
#ifndef PBRX_COMMON_PROJECT_PROJECT_H_
#define PBRX_COMMON_PROJECT_PROJECT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/project/source_tree.h"

namespace pbrx::common::project {

struct ConsoleScript {
  std::string name;
  std::string entry_point;  // "module:attr [extras]"
};

// Per-project defaults from pyproject.toml's [tool.pbrx] table (a flag or a
// PBRX_* variable wins over them; they win over the user's settings):
//   prefix = "registry.example.org/team"
//   tags = ["v1", "latest"]
//   extra-packages = ["libpq5"]   distro packages added to the images
struct PbrxSettings {
  std::optional<std::string> prefix;
  std::optional<std::vector<std::string>> tags;
  std::vector<std::string> extra_packages;
  int line = 0;  // of the [tool.pbrx] table, for messages
};

struct Project {
  std::string dir;
  // Where the metadata came from: "pyproject.toml", "setup.cfg", "setup.py".
  std::string metadata_source;
  // "pbr", "setuptools", the PEP 517 build-backend, or "unknown".
  std::string backend;
  std::string name;                    // empty only for setup.py-only projects
  std::optional<std::string> version;  // nullopt when dynamic (pbr: from git)
  // Fields whose values come from the wheel build ("version", "scripts",
  // "dependencies", "optional-dependencies", or "all").
  std::vector<std::string> dynamic;
  std::vector<ConsoleScript> scripts;
  std::vector<std::string> requirements;
  std::map<std::string, std::vector<std::string>>
      extras;               // as spelled in the file
  std::string bindep_file;  // "bindep.txt", "other-requirements.txt" or ""
  PbrxSettings pbrx;        // [tool.pbrx]
  std::vector<std::string> warnings;

  bool IsDynamic(const std::string& field) const;
};

// Reads the project in `dir`. NOT_FOUND if `dir` does not exist or holds no
// pyproject.toml, setup.cfg or setup.py; INVALID_ARGUMENT "FILE:LINE: ..."
// for malformed metadata (including a missing name).
absl::StatusOr<Project> LoadProject(const std::string& dir);
// The same over any tree (a directory, or an uploaded tree in the CAS).
absl::StatusOr<Project> LoadProject(const SourceTree& tree);

// The same from file contents (empty optional = file absent); for tests and
// fuzzing. `dir` only labels messages.
struct ProjectFiles {
  std::optional<std::string> pyproject_toml;
  std::optional<std::string> setup_cfg;
  std::optional<std::string> setup_py;
  std::optional<std::string> requirements_txt;
  bool has_bindep_txt = false;
  bool has_other_requirements_txt = false;
};
absl::StatusOr<Project> ProjectFromFiles(const std::string& dir,
                                         const ProjectFiles& files);

}  // namespace pbrx::common::project

#endif  // PBRX_COMMON_PROJECT_PROJECT_H_
