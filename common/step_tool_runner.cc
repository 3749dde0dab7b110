#include "common/step_tool_runner.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "common/base/debian_base.h"
#include "common/oci/layout_reader.h"
#include "common/oci/verified_image.h"
#include "common/project/source_tree.h"
#include "common/step_tool.h"
#include "common/wheel/python_layer.h"

namespace pbrx::common {
namespace {

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "pbrx step tool: %s\nusage: %s %s install-wheels --python=P "
               "--purelib=D --platlib=D --scripts=D --data=D --include=D "
               "--mtime=N [--out=DIR] -- WHEEL...\n"
               "       %s %s debian-base --suite=S --variant=V "
               "--include=P,... --mtime=N\n"
               "       %s %s oci-base --ref=R --os=O --architecture=A\n",
               why.c_str(), kStepToolPath, kStepToolMarker, kStepToolPath,
               kStepToolMarker, kStepToolPath, kStepToolMarker);
  return 2;
}

int InstallWheels(int argc, char** argv) {
  InstallWheelsArgs a;
  std::map<std::string, std::string*> fields = {
      {"--python", &a.python},   {"--purelib", &a.purelib},
      {"--platlib", &a.platlib}, {"--scripts", &a.scripts},
      {"--data", &a.data},       {"--include", &a.include},
      {"--out", &a.out_dir}};
  bool mtime_given = false;
  int i = 0;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    size_t eq = arg.find('=');
    std::string key = arg.substr(0, eq);
    if (eq == std::string::npos) return Usage("expected --KEY=VALUE: " + arg);
    std::string value = arg.substr(eq + 1);
    if (key == "--mtime") {
      if (!absl::SimpleAtoi(value, &a.mtime) || a.mtime < 0)
        return Usage("--mtime needs seconds since the epoch: " + value);
      mtime_given = true;
    } else if (auto f = fields.find(key); f != fields.end()) {
      *f->second = value;
    } else {
      return Usage("unknown option " + key);
    }
  }
  for (; i < argc; ++i) a.wheels.push_back(argv[i]);
  for (const auto& [key, value] : fields) {
    if (value->empty()) return Usage(key + " is required");
  }
  if (!mtime_given) return Usage("--mtime is required");
  if (a.wheels.empty()) return Usage("no wheels given");
  wheel::PythonLayerRequest r;
  r.scheme = wheel::InstallScheme{a.purelib, a.platlib, a.include,
                                  a.scripts, a.data,    a.python};
  r.mtime = a.mtime;
  r.wheels = a.wheels;
  r.staging_dir = a.out_dir + "/.python-layer-stage";
  r.out_path = a.out_dir + "/layer.tar.gz";
  absl::StatusOr<oci::Layer> layer = wheel::WritePythonLayer(r);
  if (!layer.ok()) {
    std::fprintf(stderr, "pbrx step tool install-wheels: %s\n",
                 std::string(layer.status().message()).c_str());
    return 1;
  }
  std::ofstream diff_id(a.out_dir + "/layer.diff_id", std::ios::binary);
  diff_id << oci::DiffIdText(layer->diff_id);
  diff_id.close();
  if (!diff_id) {
    std::fprintf(stderr, "pbrx step tool install-wheels: cannot write %s\n",
                 (a.out_dir + "/layer.diff_id").c_str());
    return 1;
  }
  std::printf("installed %zu wheel(s) into layer %s (%lld entries)\n",
              a.wheels.size(), layer->digest.ToString().c_str(),
              static_cast<long long>(layer->entries));
  return 0;
}

// Builds the base in the working directory (common/base/debian_base.h).
int DebianBase(int argc, char** argv) {
  absl::StatusOr<base::DebianBaseSpec> spec =
      base::ParseDebianBaseArgs(std::vector<std::string>(argv, argv + argc));
  if (!spec.ok()) return Usage(std::string(spec.status().message()));
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) {
    std::fprintf(stderr,
                 "pbrx step tool debian-base: cannot read the working "
                 "directory\n");
    return 1;
  }
  absl::StatusOr<oci::Layer> layer = base::BuildDebianBase(*spec, cwd);
  if (!layer.ok()) {
    std::fprintf(stderr, "pbrx step tool debian-base: %s\n",
                 std::string(layer.status().message()).c_str());
    return 1;
  }
  std::printf("built the %s base: layer sha256:%s (%lld entries)\n",
              spec->suite.c_str(), layer->digest.hash().c_str(),
              static_cast<long long>(layer->entries));
  return 0;
}

// Verifies the layout in the working directory and writes what it found
// (common/oci/verified_image.h).
int OciBase(int argc, char** argv) {
  OciBaseArgs a;
  std::map<std::string, std::string*> fields = {
      {"--ref", &a.ref}, {"--os", &a.os}, {"--architecture", &a.architecture}};
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    auto f = fields.find(arg.substr(0, eq));
    if (eq == std::string::npos || f == fields.end())
      return Usage("oci-base: unexpected argument " + arg);
    *f->second = arg.substr(eq + 1);
  }
  oci::OciReadOptions options;
  options.os = a.os;
  options.architecture = a.architecture;
  absl::StatusOr<oci::OciImage> image = oci::ReadOciImage(
      project::DirSourceTree(".", "the base layout"), a.ref, options);
  if (!image.ok()) {
    std::fprintf(stderr, "pbrx step tool oci-base: %s\n",
                 std::string(image.status().message()).c_str());
    return 1;
  }
  std::ofstream out(oci::kVerifiedImageFile, std::ios::binary);
  out << oci::VerifiedImageJson(*image);
  out.close();
  if (!out) {
    std::fprintf(stderr, "pbrx step tool oci-base: cannot write %s\n",
                 oci::kVerifiedImageFile);
    return 1;
  }
  std::printf("verified image sha256:%s (%zu layers)\n",
              image->manifest.hash().c_str(), image->layers.size());
  return 0;
}

}  // namespace

std::string StepToolBinary() {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return "";
  std::string p(path, n);
  if (p.size() > 10 && p.compare(p.size() - 10, 10, " (deleted)") == 0)
    return "";
  return p;
}

int RunStepTool(int argc, char** argv) {
  if (argc < 3) return Usage("no tool named");
  std::string tool = argv[2];
  if (tool == "install-wheels") return InstallWheels(argc - 3, argv + 3);
  if (tool == kDebianBaseTool) return DebianBase(argc - 3, argv + 3);
  if (tool == kOciBaseTool) return OciBase(argc - 3, argv + 3);
  return Usage("unknown tool " + tool);
}

}  // namespace pbrx::common
