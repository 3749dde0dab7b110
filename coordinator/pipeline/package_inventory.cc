#include "coordinator/pipeline/package_inventory.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/base/base_probe.h"
#include "common/json_struct.h"
#include "common/status_macros.h"

namespace pbrx::coordinator {
namespace {

// A field's text, checked: short and free of control characters (it ends
// up in an SBOM, a purl and a report).
absl::StatusOr<std::string> Field(const google::protobuf::Struct& s,
                                  const std::string& key,
                                  const std::string& where) {
  std::string v = common::Str(s, key);
  if (v.size() > kMaxInventoryField) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": field '", key, "' is ", v.size(),
                     " bytes, over the limit of ", kMaxInventoryField));
  }
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": field '", key, "' holds a control character"));
    }
  }
  return v;
}

}  // namespace

absl::StatusOr<DistroInventory> ParseInventory(const std::string& json,
                                               const std::string& what) {
  if (json.size() > static_cast<size_t>(kMaxInventoryBytes)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is ", json.size(),
                                                   " bytes, over the limit of ",
                                                   kMaxInventoryBytes));
  }
  ASSIGN_OR_RETURN(google::protobuf::Struct doc,
                   common::ParseJsonStruct(json, what));
  DistroInventory inv;
  ASSIGN_OR_RETURN(inv.manager, Field(doc, "manager", what));
  if (inv.manager != "" && inv.manager != "dpkg" && inv.manager != "apk") {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": unknown package manager '", inv.manager, "'"));
  }
  if (const google::protobuf::Struct* osr = common::Obj(doc, "os_release")) {
    const std::string where = what + " os_release";
    ASSIGN_OR_RETURN(inv.distro_id, Field(*osr, "ID", where));
    ASSIGN_OR_RETURN(inv.version_id, Field(*osr, "VERSION_ID", where));
    ASSIGN_OR_RETURN(inv.codename, Field(*osr, "VERSION_CODENAME", where));
  }
  auto it = doc.fields().find("packages");
  if (it == doc.fields().end()) return inv;
  if (!it->second.has_list_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": 'packages' is not a list"));
  }
  const auto& list = it->second.list_value().values();
  if (static_cast<size_t>(list.size()) > kMaxInventoryPackages) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " lists ", list.size(),
                     " packages, over the limit of ", kMaxInventoryPackages));
  }
  for (int i = 0; i < list.size(); ++i) {
    const std::string where = absl::StrCat(what, " packages[", i, "]");
    if (!list[i].has_struct_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " is not an object"));
    }
    const google::protobuf::Struct& p = list[i].struct_value();
    DistroPackage pkg;
    ASSIGN_OR_RETURN(pkg.name, Field(p, "name", where));
    ASSIGN_OR_RETURN(pkg.version, Field(p, "version", where));
    ASSIGN_OR_RETURN(pkg.arch, Field(p, "arch", where));
    ASSIGN_OR_RETURN(pkg.source, Field(p, "source", where));
    if (pkg.name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " has no name"));
    }
    if (pkg.source == pkg.name) pkg.source.clear();
    inv.packages.push_back(std::move(pkg));
  }
  // Sorted here too: the SBOM's bytes must not depend on the probe's order.
  std::sort(inv.packages.begin(), inv.packages.end(),
            [](const DistroPackage& a, const DistroPackage& b) {
              return std::tie(a.name, a.arch, a.version) <
                     std::tie(b.name, b.arch, b.version);
            });
  return inv;
}

absl::StatusOr<DistroInventory> ProbePackages(StepRunner& steps,
                                              const std::string& name,
                                              const std::string& rootfs) {
  ASSIGN_OR_RETURN(
      std::string text,
      steps.Probe("packages-probe", name, common::base::kPackagesProbeScript,
                  rootfs, "packages.json", kMaxInventoryBytes));
  return ParseInventory(text, "packages.json of step packages-probe " + name);
}

}  // namespace pbrx::coordinator
