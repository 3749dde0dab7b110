// libFuzzer target for the setup.cfg reader (configparser semantics) and the
// project model built from it. Besides "never crash": a parsed file's keys
// are never empty, and a project loaded from it has a valid name and unique
// console script names.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "common/project/ini_file.h"
#include "common/project/project.h"
#include "common/project/python_names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace pj = pbrx::common::project;
  std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<pj::IniFile> ini = pj::ParseIni(text, "setup.cfg");
  if (ini.ok()) {
    for (const pj::IniSection& s : ini->sections) {
      for (const pj::IniEntry& e : s.entries) {
        if (e.key.empty() || e.line <= 0) std::abort();
      }
    }
  }
  pj::ProjectFiles files;
  files.setup_cfg = text;
  files.requirements_txt = text;  // exercise the requirements reader too
  absl::StatusOr<pj::Project> p = pj::ProjectFromFiles("fuzz", files);
  if (p.ok()) {
    if (!pj::IsValidName(p->name)) std::abort();
    std::set<std::string> names;
    for (const auto& s : p->scripts) {
      if (!names.insert(s.name).second) std::abort();
    }
  } else if (p.status().message().empty()) {
    std::abort();
  }
  return 0;
}
