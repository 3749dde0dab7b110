// libFuzzer target for the pyproject.toml reader (toml++ and the PEP 621
// model built from it). Besides "never crash": a project loaded from it has
// a valid name (unless its metadata is all dynamic, to come from the wheel
// build), unique console script names, and errors carry a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "common/project/project.h"
#include "common/project/python_names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace pj = pbrx::common::project;
  std::string text(reinterpret_cast<const char*>(data), size);
  pj::ProjectFiles files;
  files.pyproject_toml = text;
  absl::StatusOr<pj::Project> p = pj::ProjectFromFiles("fuzz", files);
  if (p.ok()) {
    if (!pj::IsValidName(p->name) && !p->IsDynamic("all")) std::abort();
    std::set<std::string> names;
    for (const auto& s : p->scripts) {
      if (!names.insert(s.name).second) std::abort();
    }
  } else if (p.status().message().empty()) {
    std::abort();
  }
  return 0;
}
