#include "common/wheel/python_layer.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/beneath.h"
#include "common/status_macros.h"

namespace pbrx::common::wheel {

absl::StatusOr<oci::Layer> WritePythonLayer(const PythonLayerRequest& request) {
  if (mkdir(request.staging_dir.c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat(
        "cannot create ", request.staging_dir, ": ", std::strerror(errno)));
  }
  absl::StatusOr<oci::Layer> layer = [&]() -> absl::StatusOr<oci::Layer> {
    for (const std::string& wheel : request.wheels) {
      absl::StatusOr<InstalledWheel> w = InstallWheel(
          wheel, request.scheme, request.staging_dir, request.limits);
      if (!w.ok())
        return Annotate(w.status(), absl::StrCat("installing ", wheel));
    }
    oci::LayerOptions lo;
    lo.mtime = request.mtime;
    return oci::WriteLayer(request.staging_dir, request.out_path, lo);
  }();
  RemoveAt(AT_FDCWD, request.staging_dir).IgnoreError();
  return layer;
}

}  // namespace pbrx::common::wheel
