// Benchmark: the native wheel installer vs `pip install --no-deps
// --no-compile --target` on the same 50 wheels (generated here: 20 to 200
// modules each, pure Python, with entry points), in the same run.
// Usage: bazel run -c opt //tools/bench:wheel_install_bench -- [--work-dir=DIR]
#include <archive.h>
#include <archive_entry.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/flag_parser.h"
#include "common/process.h"
#include "common/wheel/wheel_installer.h"

namespace {

using pbrx::common::wheel::RecordHash;

void MakeWheel(const std::string& path, int index, int modules) {
  std::string name = absl::StrCat("benchpkg", index);
  std::string dist = absl::StrCat(name, "-1.0.dist-info");
  std::vector<std::pair<std::string, std::string>> files;
  for (int m = 0; m < modules; ++m) {
    std::string body;
    for (int l = 0; l < 40; ++l) {
      absl::StrAppend(&body, "def f", m, "_", l, "(x):\n    return x * ", l,
                      " + ", m, "\n\n");
    }
    files.emplace_back(absl::StrCat(name, "/mod", m, ".py"), body);
  }
  files.emplace_back(absl::StrCat(name, "/__init__.py"),
                     "def main():\n    return 0\n");
  files.emplace_back(
      dist + "/METADATA",
      absl::StrCat("Metadata-Version: 2.1\nName: ", name, "\nVersion: 1.0\n"));
  files.emplace_back(
      dist + "/WHEEL",
      "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
  files.emplace_back(
      dist + "/entry_points.txt",
      absl::StrCat("[console_scripts]\n", name, "-cli = ", name, ":main\n"));
  std::string record;
  for (const auto& [p, c] : files)
    absl::StrAppend(&record, p, ",", RecordHash(c), ",", c.size(), "\n");
  absl::StrAppend(&record, dist, "/RECORD,,\n");
  files.emplace_back(dist + "/RECORD", record);
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open_filename(a, path.c_str());
  for (const auto& [p, c] : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, p.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(c.size()));
    archive_write_header(a, e);
    archive_write_data(a, c.data(), c.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace

int main(int argc, char** argv) {
  std::string work = "/tmp/pbrx-wheel-bench";
  pbrx::common::FlagParser flags("wheel_install_bench");
  flags.AddString("work-dir", &work, "scratch directory");
  bool help = false;
  if (absl::Status s = flags.Parse(argc, argv, &help); !s.ok() || help) {
    std::fputs(flags.Usage().c_str(), help ? stdout : stderr);
    return help ? 0 : 2;
  }
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  if (!std::filesystem::create_directories(work + "/wheels", ec)) {
    std::fprintf(stderr, "cannot create %s/wheels: %s\n", work.c_str(),
                 ec.message().c_str());
    return 1;
  }
  std::vector<std::string> wheels;
  int total_files = 0;
  for (int i = 0; i < 50; ++i) {
    int modules = 20 + (i * 37) % 181;
    total_files += modules + 1;
    std::string p =
        absl::StrCat(work, "/wheels/benchpkg", i, "-1.0-py3-none-any.whl");
    MakeWheel(p, i, modules);
    wheels.push_back(p);
  }
  pbrx::common::wheel::InstallScheme scheme{
      "/lib", "/lib", "/include", "/bin", "/data", "/usr/bin/python3"};
  absl::Time t0 = absl::Now();
  for (const std::string& w : wheels) {
    auto r = pbrx::common::wheel::InstallWheel(w, scheme, work + "/native");
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
      return 1;
    }
  }
  double native = absl::ToDoubleSeconds(absl::Now() - t0);
  // The baseline, pip, from an argv (no shell).
  std::vector<std::string> pip_argv = {"/usr/bin/python3",
                                       "-m",
                                       "pip",
                                       "install",
                                       "--quiet",
                                       "--no-deps",
                                       "--no-compile",
                                       "--no-index",
                                       "--disable-pip-version-check",
                                       "--root-user-action=ignore",
                                       "--target",
                                       work + "/pip"};
  pip_argv.insert(pip_argv.end(), wheels.begin(), wheels.end());
  pbrx::common::ProcessOptions po;
  po.env = {{"PATH", "/usr/bin:/bin"}, {"HOME", work}};
  po.log_to_stderr = true;
  t0 = absl::Now();
  absl::StatusOr<pbrx::common::ProcessResult> pip_run =
      pbrx::common::RunProcess(pip_argv, po);
  if (!pip_run.ok() || !pip_run->ok()) return 1;
  double pip = absl::ToDoubleSeconds(absl::Now() - t0);
  std::printf("%-50s %12s %12s %8s\n", "benchmark", "native", "pip", "speedup");
  std::printf("%-50s %10.2f s %10.2f s %7.1fx\n",
              absl::StrCat("install 50 wheels (", total_files,
                           " modules), no deps/compile")
                  .c_str(),
              native, pip, pip / native);
  std::filesystem::remove_all(work, ec);
  return ec ? 1 : 0;
}
