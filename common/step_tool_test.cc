#include "common/step_tool.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/step_tool_runner.h"
#include "common/wheel/python_layer.h"
#include "common/wheel/wheel_installer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tests/zip_writer.h"

namespace pbrx::common {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

// A small well-formed wheel: demo 1.0, one module.
std::string MakeWheel(const std::string& dir) {
  std::string path = dir + "/demo-1.0-py3-none-any.whl";
  std::vector<testing_util::ZipEntry> e = {
      {"demo/__init__.py", "X = 1\n"},
      {"demo-1.0.dist-info/METADATA",
       "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"},
      {"demo-1.0.dist-info/WHEEL",
       "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}};
  std::string record;
  for (const auto& z : e) {
    absl::StrAppend(&record, z.name, ",", wheel::RecordHash(z.content), ",",
                    z.content.size(), "\n");
  }
  record += "demo-1.0.dist-info/RECORD,,\n";
  e.push_back({"demo-1.0.dist-info/RECORD", record});
  EXPECT_TRUE(testing_util::WriteZip(path, e));
  return path;
}

InstallWheelsArgs Args(const std::string& out, const std::string& wheel) {
  InstallWheelsArgs a;
  a.python = "/usr/bin/python3";
  a.purelib = a.platlib = "/usr/local/lib/python3.11/dist-packages";
  a.scripts = "/usr/local/bin";
  a.data = "/usr/local";
  a.include = "/usr/local/include/python3.11/demo";
  a.mtime = 1700000000;
  a.out_dir = out;
  a.wheels = {wheel};
  return a;
}

// Runs the tool as a main would see it; its stderr in *err.
int RunTool(const std::vector<std::string>& args, std::string* err) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& s : copy) argv.push_back(s.data());
  std::string err_path = testing_util::NewTempDir("err") + "/stderr";
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fd, STDERR_FILENO);
  close(fd);
  int code = RunStepTool(static_cast<int>(argv.size()), argv.data());
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  *err = testing_util::ReadFile(err_path);
  return code;
}

std::vector<std::string> TarNames(const std::string& path) {
  std::vector<std::string> names;
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) == ARCHIVE_OK) {
    archive_entry* e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK)
      names.push_back(archive_entry_pathname(e));
  }
  archive_read_free(a);
  return names;
}

TEST(StepToolTest, InstallWheelsWritesTheLayerTheLibraryWrites) {
  std::string dir = testing_util::NewTempDir("tool");
  std::string wheel = MakeWheel(dir);
  std::string out = dir + "/out";
  mkdir(out.c_str(), 0755);
  std::vector<std::string> argv = InstallWheelsArgv(Args(out, wheel));
  ASSERT_GE(argv.size(), 3u);
  EXPECT_EQ(argv[0], "/.pbrx/step-tool");
  EXPECT_EQ(argv[1], "__pbrx_step_tool");
  EXPECT_EQ(argv[2], "install-wheels");
  std::vector<char*> raw;
  for (std::string& s : argv) raw.push_back(s.data());
  EXPECT_TRUE(IsStepToolInvocation(static_cast<int>(raw.size()), raw.data()));
  std::string err;
  ASSERT_EQ(RunTool(argv, &err), 0) << err;

  wheel::PythonLayerRequest r;
  r.scheme = wheel::InstallScheme{"/usr/local/lib/python3.11/dist-packages",
                                  "/usr/local/lib/python3.11/dist-packages",
                                  "/usr/local/include/python3.11/demo",
                                  "/usr/local/bin",
                                  "/usr/local",
                                  "/usr/bin/python3"};
  r.mtime = 1700000000;
  r.wheels = {wheel};
  r.staging_dir = dir + "/stage";
  r.out_path = dir + "/direct.tar.gz";
  absl::StatusOr<oci::Layer> direct = wheel::WritePythonLayer(r);
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ(testing_util::ReadFile(out + "/layer.diff_id"),
            oci::DiffIdText(direct->diff_id));
  EXPECT_EQ(testing_util::ReadFile(out + "/layer.tar.gz"),
            testing_util::ReadFile(r.out_path));
  EXPECT_THAT(TarNames(out + "/layer.tar.gz"),
              Contains("usr/local/lib/python3.11/dist-packages/demo/"
                       "__init__.py"));
  struct stat st;
  EXPECT_NE(lstat((out + "/.python-layer-stage").c_str(), &st), 0);
  EXPECT_NE(lstat(r.staging_dir.c_str(), &st), 0);
}

TEST(StepToolTest, ABrokenWheelFailsNamingItAndLeavesNoLayer) {
  std::string dir = testing_util::NewTempDir("tool");
  std::string bad = dir + "/bad-1.0-py3-none-any.whl";
  testing_util::WriteZip(bad, {{"bad/__init__.py", "x"}});  // no dist-info
  std::string err;
  EXPECT_EQ(RunTool(InstallWheelsArgv(Args(dir, bad)), &err), 1);
  EXPECT_THAT(err, HasSubstr("pbrx step tool install-wheels: installing " +
                             bad + ": "));
  struct stat st;
  EXPECT_NE(lstat((dir + "/layer.tar.gz").c_str(), &st), 0);
  EXPECT_NE(lstat((dir + "/layer.diff_id").c_str(), &st), 0);
}

TEST(StepToolTest, UsageErrors) {
  std::string err;
  EXPECT_EQ(RunTool({"/.pbrx/step-tool", "__pbrx_step_tool"}, &err), 2);
  EXPECT_THAT(err, HasSubstr("pbrx step tool: no tool named\n"));
  EXPECT_EQ(RunTool({"/.pbrx/step-tool", "__pbrx_step_tool", "rm-rf"}, &err),
            2);
  EXPECT_THAT(err, HasSubstr("pbrx step tool: unknown tool rm-rf\n"));
  std::vector<std::string> argv = InstallWheelsArgv(Args(".", "w.whl"));
  argv.erase(std::find(argv.begin(), argv.end(), "--mtime=1700000000"));
  EXPECT_EQ(RunTool(argv, &err), 2);
  EXPECT_THAT(err, HasSubstr("pbrx step tool: --mtime is required\n"));
  argv = InstallWheelsArgv(Args(".", "w.whl"));
  argv.pop_back();
  EXPECT_EQ(RunTool(argv, &err), 2);
  EXPECT_THAT(err, HasSubstr("pbrx step tool: no wheels given\n"));
  argv = InstallWheelsArgv(Args(".", "w.whl"));
  argv.insert(argv.begin() + 3, "--bogus=1");
  EXPECT_EQ(RunTool(argv, &err), 2);
  EXPECT_THAT(err, HasSubstr("pbrx step tool: unknown option --bogus\n"));
  char* not_a_tool[] = {const_cast<char*>("pbrx"),
                        const_cast<char*>("build-images")};
  EXPECT_FALSE(IsStepToolInvocation(2, not_a_tool));
}

}  // namespace
}  // namespace pbrx::common
