#include "common/wheel/wheel_installer.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tests/zip_writer.h"

namespace pbrx::common::wheel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Entry {
  std::string content;
  int perm = 0644;
  bool symlink = false;
};

// RECORD hashes of the fixture contents, computed once with Python:
// "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(c).digest())
// without padding. Pinned here so that the fixtures do not depend on the
// RecordHash under test.
std::string PinnedRecordHash(const std::string& content) {
  static const auto* kHashes = new std::map<std::string, std::string>{
      {"VERSION = '1.2'\n",
       "sha256=U2ZzCEVX74vb2alJqRatFWxgDdgP7zK33QTwRoRcyhM"},
      {"import sys\nfrom demo_tool import VERSION\n\ndef main():\n    "
       "print('demo', VERSION, sys.argv[1:])\n    return 0\n",
       "sha256=sV-BcPxPxzQ_6k4Z-Zx8vxeo29MO7ccKMI5P5Hmdvy8"},
      {"a,b\n", "sha256=W-CMloSh0l787gkxggSCQniwi7-0rvlz_-_QuddHgxM"},
      {"#!python\nprint('legacy')\n",
       "sha256=4RnRE3w8guHLcYve-2a_V50o2RXjz0fOBQKJI-BU6_E"},
      {"shared data\n", "sha256=ssFDgsA1wCAGS7vbs6JjwDLSBooWouY-Q_ohSsBisN0"},
      {"int demo(void);\n",
       "sha256=lEFI_Y_qYu7W6gfT4RtfziYpp_YP4u9a6JUuhcBf5Dg"},
      {"Metadata-Version: 2.1\nName: demo-tool\nVersion: 1.2\n",
       "sha256=9cYSqvC3WTqSpev8R90emIHCnOjSPXRwVscNdhfGSew"},
      {"Wheel-Version: 1.0\nGenerator: pbrx-test\nRoot-Is-Purelib: true\n"
       "Tag: py3-none-any\n",
       "sha256=aohRQt4jWOfjMB8lkHrQWN2rVGG9XfBaWC-OUDr7PZo"},
      {"[console_scripts]\ndemo-tool = demo_tool.cli:main\n\n[gui_scripts]\n"
       "demo-gui = demo_tool.cli:main [gui]\n\n[other.group]\nx = y:z\n",
       "sha256=LQ0D7ziOXUFSosvyxJ5FInBAlOI7P-VBKXU_9Vo7cDU"},
      {"other", "sha256=2SmKENGwc1g33EvYXaxkGw887yekfl1TpU8vP1svz_o"},
      {"x", "sha256=LXEWQrcmsEQBYnyp-6wy9chTD7GQPMTbAiWHF5IaSIE"},
      {"/etc/passwd", "sha256=dKzzGERTJnC-QSxluCUe5V0HJUkICxz_2-prGhkiMKA"},
      {"Wheel-Version: 2.0\nRoot-Is-Purelib: true\n",
       "sha256=3p5HogDRmmIZ_E9h99_N4oLXudEv13c6iUK9IdPQtCw"},
  };
  auto it = kHashes->find(content);
  if (it == kHashes->end()) {
    ADD_FAILURE() << "no pinned RECORD hash for fixture content: " << content;
    return "sha256=unknown";
  }
  return it->second;
}

// Writes a wheel zip. RECORD is generated for every entry unless given.
void MakeWheel(const std::string& path, const std::string& dist_info,
               std::map<std::string, Entry> entries, bool add_record = true) {
  if (add_record) {
    std::string record;
    for (const auto& [name, e] : entries) {
      record += absl::StrCat(name, ",", PinnedRecordHash(e.content), ",",
                             e.content.size(), "\n");
    }
    record += dist_info + "/RECORD,,\n";
    entries[dist_info + "/RECORD"] = Entry{record};
  }
  std::vector<testing_util::ZipEntry> zip;
  for (const auto& [name, e] : entries)
    zip.push_back({name, e.content, e.perm, e.symlink});
  ASSERT_TRUE(testing_util::WriteZip(path, zip));
}

int Sh(const std::string& cmd, std::string* out) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen((cmd + " 2>&1").c_str(), "r"),
                                          pclose);
  std::array<char, 4096> buf;
  size_t n;
  out->clear();
  while ((n = fread(buf.data(), 1, buf.size(), p.get())) > 0)
    out->append(buf.data(), n);
  return WEXITSTATUS(pclose(p.release()));
}

constexpr char kDist[] = "demo_tool-1.2.dist-info";

std::map<std::string, Entry> DemoEntries() {
  return {
      {"demo_tool/__init__.py", {"VERSION = '1.2'\n"}},
      {"demo_tool/cli.py",
       {"import sys\nfrom demo_tool import VERSION\n\ndef main():\n    "
        "print('demo', VERSION, "
        "sys.argv[1:])\n    return 0\n"}},
      {"demo_tool/data/table.txt", {"a,b\n"}},
      {"demo_tool-1.2.data/scripts/legacy-demo",
       {"#!python\nprint('legacy')\n"}},
      {"demo_tool-1.2.data/data/share/demo/README", {"shared data\n"}},
      {"demo_tool-1.2.data/headers/demo.h", {"int demo(void);\n"}},
      {std::string(kDist) + "/METADATA",
       {"Metadata-Version: 2.1\nName: demo-tool\nVersion: 1.2\n"}},
      {std::string(kDist) + "/WHEEL",
       {"Wheel-Version: 1.0\nGenerator: pbrx-test\nRoot-Is-Purelib: true\nTag: "
        "py3-none-any\n"}},
      {std::string(kDist) + "/entry_points.txt",
       {"[console_scripts]\ndemo-tool = "
        "demo_tool.cli:main\n\n[gui_scripts]\ndemo-gui = "
        "demo_tool.cli:main [gui]\n\n[other.group]\nx = y:z\n"}},
  };
}

InstallScheme Scheme() {
  return InstallScheme{"/usr/local/lib/python3.11/dist-packages",
                       "/usr/local/lib/python3.11/dist-packages",
                       "/usr/local/include/python3.11/demo-tool",
                       "/usr/local/bin",
                       "/usr/local",
                       "/usr/bin/python3"};
}

TEST(WheelInstallerTest, InstallsLikePip) {
  std::string dir = testing_util::NewTempDir("whl");
  std::string wheel = dir + "/demo_tool-1.2-py3-none-any.whl";
  MakeWheel(wheel, kDist, DemoEntries());
  std::string root = dir + "/root";
  auto r = InstallWheel(wheel, Scheme(), root);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->name, "demo_tool");
  EXPECT_EQ(r->version, "1.2");
  EXPECT_THAT(r->scripts, ElementsAre("/usr/local/bin/demo-tool",
                                      "/usr/local/bin/demo-gui"));
  const std::string lib = root + "/usr/local/lib/python3.11/dist-packages";
  EXPECT_EQ(testing_util::ReadFile(lib + "/demo_tool/data/table.txt"), "a,b\n");
  EXPECT_EQ(testing_util::ReadFile(root + "/usr/local/share/demo/README"),
            "shared data\n");
  EXPECT_EQ(testing_util::ReadFile(
                root + "/usr/local/include/python3.11/demo-tool/demo.h"),
            "int demo(void);\n");
  EXPECT_EQ(testing_util::ReadFile(root + "/usr/local/bin/legacy-demo"),
            "#!/usr/bin/python3\nprint('legacy')\n");
  EXPECT_EQ(testing_util::ReadFile(lib + "/" + kDist + "/INSTALLER"), "pbrx\n");
  struct stat st;
  ASSERT_EQ(stat((root + "/usr/local/bin/demo-tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  std::string record = testing_util::ReadFile(lib + "/" + kDist + "/RECORD");
  EXPECT_THAT(record, HasSubstr("../../../bin/demo-tool,sha256="));
  EXPECT_THAT(
      record,
      HasSubstr("\ndemo_tool/cli.py,"
                "sha256=sV-BcPxPxzQ_6k4Z-Zx8vxeo29MO7ccKMI5P5Hmdvy8,108\n"));
  EXPECT_THAT(record, HasSubstr("demo_tool-1.2.dist-info/RECORD,,\n"));

  // The wrapper runs the entry point.
  std::string out;
  ASSERT_EQ(Sh("PYTHONPATH=" + lib + " /usr/bin/python3 " + root +
                   "/usr/local/bin/demo-tool x y",
               &out),
            0)
      << out;
  EXPECT_EQ(out, "demo 1.2 ['x', 'y']\n");

  // Real pip installs the same wheel to the same files, and writes the same
  // wrapper (apart from its shebang).
  std::string target = dir + "/pip-target";
  ASSERT_EQ(Sh("/usr/bin/python3 -m pip install --quiet --no-deps --no-compile "
               "--no-index "
               "--disable-pip-version-check --target " +
                   target + " " + wheel,
               &out),
            0)
      << out;
  for (const char* f : {"demo_tool/__init__.py", "demo_tool/cli.py",
                        "demo_tool/data/table.txt"}) {
    EXPECT_EQ(testing_util::ReadFile(target + "/" + f),
              testing_util::ReadFile(lib + "/" + f))
        << f;
  }
  std::string pip_wrapper = testing_util::ReadFile(target + "/bin/demo-tool");
  std::string ours = testing_util::ReadFile(root + "/usr/local/bin/demo-tool");
  EXPECT_EQ(pip_wrapper.substr(pip_wrapper.find('\n')),
            ours.substr(ours.find('\n')));
}

struct BadWheel {
  std::string label;
  std::map<std::string, Entry> extra;
  std::string remove;
  std::string message;
  bool add_record = true;
};

class BadWheelTest : public ::testing::TestWithParam<BadWheel> {};

TEST_P(BadWheelTest, Refused) {
  std::string dir = testing_util::NewTempDir("bad");
  std::string wheel = dir + "/demo_tool-1.2-py3-none-any.whl";
  auto entries = DemoEntries();
  for (const auto& [k, v] : GetParam().extra) entries[k] = v;
  entries.erase(GetParam().remove);
  MakeWheel(wheel, kDist, entries, GetParam().add_record);
  auto r = InstallWheel(wheel, Scheme(), dir + "/root");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(r.status().message()),
            "demo_tool-1.2-py3-none-any.whl: " + GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadWheelTest,
    ::testing::Values(
        BadWheel{"DotDot",
                 {{"demo_tool/../../etc/evil", {"x"}}},
                 "",
                 "entry 'demo_tool/../../etc/evil' is absolute or contains "
                 "'..'; refused"},
        BadWheel{"Absolute",
                 {{"/etc/evil", {"x"}}},
                 "",
                 "entry '/etc/evil' is absolute or contains '..'; refused"},
        BadWheel{"Symlink",
                 {{"demo_tool/link", {"/etc/passwd", 0777, true}}},
                 "",
                 "entry 'demo_tool/link' is a symlink; refused"},
        BadWheel{"NoWheelFile",
                 {},
                 std::string(kDist) + "/WHEEL",
                 "demo_tool-1.2.dist-info/WHEEL is missing"},
        BadWheel{"WheelVersion2",
                 {{std::string(kDist) + "/WHEEL",
                   {"Wheel-Version: 2.0\nRoot-Is-Purelib: true\n"}}},
                 "",
                 "unsupported Wheel-Version '2.0' (this installer reads 1.x)"},
        BadWheel{
            "UnknownDataDir",
            {{"demo_tool-1.2.data/weird/x", {"x"}}},
            "",
            "'demo_tool-1.2.data/weird/x': unknown .data directory 'weird'"}),
    [](const auto& info) { return info.param.label; });

TEST(WheelInstallerTest, RecordMismatchesAreRefused) {
  std::string dir = testing_util::NewTempDir("rec");
  auto entries = DemoEntries();
  // A RECORD that lies about one file and forgets another.
  std::string record;
  for (const auto& [name, e] : entries) {
    if (name == "demo_tool/data/table.txt") continue;
    std::string hash = name == "demo_tool/cli.py" ? PinnedRecordHash("other")
                                                  : PinnedRecordHash(e.content);
    record += absl::StrCat(name, ",", hash, ",", e.content.size(), "\n");
  }
  entries[std::string(kDist) + "/RECORD"] = Entry{record};
  MakeWheel(dir + "/w.whl", kDist, entries, /*add_record=*/false);
  auto r = InstallWheel(dir + "/w.whl", Scheme(), dir + "/root");
  EXPECT_EQ(std::string(r.status().message()),
            "w.whl: 'demo_tool/data/table.txt' is not listed in RECORD");

  entries = DemoEntries();
  record.clear();
  for (const auto& [name, e] : entries) {
    std::string hash = name == "demo_tool/cli.py" ? PinnedRecordHash("other")
                                                  : PinnedRecordHash(e.content);
    record += absl::StrCat(name, ",", hash, ",", e.content.size(), "\n");
  }
  entries[std::string(kDist) + "/RECORD"] = Entry{record};
  MakeWheel(dir + "/w2.whl", kDist, entries, /*add_record=*/false);
  r = InstallWheel(dir + "/w2.whl", Scheme(), dir + "/root2");
  EXPECT_EQ(std::string(r.status().message()),
            "w2.whl: 'demo_tool/cli.py' does not match its RECORD hash/size");
}

TEST(WheelInstallerTest, RecordHashFormat) {
  // sha256 of "" in urlsafe base64 without padding, as pip writes it.
  EXPECT_EQ(RecordHash(""),
            "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
  EXPECT_EQ(RecordHash("a,b\n"),
            "sha256=W-CMloSh0l787gkxggSCQniwi7-0rvlz_-_QuddHgxM");
  EXPECT_EQ(RecordHash("other"),
            "sha256=2SmKENGwc1g33EvYXaxkGw887yekfl1TpU8vP1svz_o");
}

TEST(WheelInstallerTest, SchemePathsFromTheBaseAreValidated) {
  // A hostile base's probe could name any path: one that climbs out of the
  // staging root is refused before anything is written.
  std::string dir = testing_util::NewTempDir("scheme");
  MakeWheel(dir + "/w.whl", kDist, DemoEntries());
  InstallScheme evil = Scheme();
  evil.purelib = "/../../escaped";
  auto r = InstallWheel(dir + "/w.whl", evil, dir + "/root");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(r.status().message()),
            "install scheme purelib '/../../escaped' is not an absolute, "
            "normalised path without control characters");
  evil = Scheme();
  evil.python = "/usr/bin/python3\nimport os";
  EXPECT_EQ(InstallWheel(dir + "/w.whl", evil, dir + "/root").status().code(),
            absl::StatusCode::kInvalidArgument);
  struct stat st;
  EXPECT_NE(stat((dir + "/escaped").c_str(), &st), 0);
  EXPECT_NE(stat((dir + "/root").c_str(), &st), 0);
}

TEST(WheelInstallerTest, BadRecordSizesAreErrorsNotCrashes) {
  for (const char* size : {"abc", "-5", "99999999999999999999999"}) {
    std::string dir = testing_util::NewTempDir("recsize");
    auto entries = DemoEntries();
    std::string record;
    for (const auto& [name, e] : entries) {
      record += absl::StrCat(name, ",", PinnedRecordHash(e.content), ",",
                             name == "demo_tool/cli.py"
                                 ? std::string(size)
                                 : std::to_string(e.content.size()),
                             "\n");
    }
    entries[std::string(kDist) + "/RECORD"] = Entry{record};
    MakeWheel(dir + "/w.whl", kDist, entries, /*add_record=*/false);
    auto r = InstallWheel(dir + "/w.whl", Scheme(), dir + "/root");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(r.status().message()),
              absl::StrCat("w.whl: RECORD size '", size,
                           "' of 'demo_tool/cli.py' is not a non-negative "
                           "integer"));
  }
}

TEST(WheelInstallerTest, EntryPointsMustBeIdentifiers) {
  std::string dir = testing_util::NewTempDir("ep");
  auto entries = DemoEntries();
  entries[std::string(kDist) + "/entry_points.txt"] =
      Entry{"[console_scripts]\nevil = os;import os:system\n"};
  MakeWheel(dir + "/w.whl", kDist, entries, /*add_record=*/false);
  // (RECORD built by hand: the pinned table lacks this content.)
  std::string record;
  for (const auto& [name, e] : entries) {
    if (name == std::string(kDist) + "/entry_points.txt") {
      record +=
          name + ",sha256=" + "6Hk9F8Wq1pTq0v6QnZ8wFhK9qV7F9a8f2c6mF0y9p1o,\n";
      continue;
    }
    record += absl::StrCat(name, ",", PinnedRecordHash(e.content), ",",
                           e.content.size(), "\n");
  }
  entries[std::string(kDist) + "/RECORD"] = Entry{record};
  MakeWheel(dir + "/w.whl", kDist, entries, /*add_record=*/false);
  std::string staging = dir + "/staging";
  auto r = InstallWheel(dir + "/w.whl", Scheme(), staging);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  // The content check or the entry point check refuses it; never a script.
  struct stat st;
  EXPECT_NE(stat((staging + "/usr/local/bin/evil").c_str(), &st), 0);
}

TEST(WheelInstallerTest, AZipBombIsRefusedWithoutHoldingItInMemory) {
  // 512 MiB of zeros in a wheel of well under 1 MiB: refused past 64 MiB
  // unpacked at a 200:1 ratio, streamed, so memory stays small.
  std::string dir = testing_util::NewTempDir("bomb");
  std::string wheel = dir + "/bomb-1.0-py3-none-any.whl";
  {
    archive* a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_open_filename(a, wheel.c_str());
    auto add = [&](const std::string& name, int64_t size,
                   const std::string& content) {
      archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, name.c_str());
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_size(e, size);
      archive_write_header(a, e);
      if (content.empty()) {
        std::string zeros(1 << 20, '\0');
        for (int64_t left = size; left > 0; left -= zeros.size())
          archive_write_data(a, zeros.data(),
                             std::min<int64_t>(left, zeros.size()));
      } else {
        archive_write_data(a, content.data(), content.size());
      }
      archive_entry_free(e);
    };
    add("bomb/zeros.bin", int64_t{512} << 20, "");  // first: read first
    add("bomb-1.0.dist-info/WHEEL", 41,
        "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n");
    std::string record =
        "bomb/zeros.bin,sha256=AAAA,\nbomb-1.0.dist-info/WHEEL,,\n"
        "bomb-1.0.dist-info/RECORD,,\n";
    add("bomb-1.0.dist-info/RECORD", record.size(), record);
    archive_write_close(a);
    archive_write_free(a);
  }
  struct rusage before;
  getrusage(RUSAGE_SELF, &before);
  auto r = InstallWheel(wheel, Scheme(), dir + "/root");
  struct rusage after;
  getrusage(RUSAGE_SELF, &after);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(r.status().message()),
            "bomb-1.0-py3-none-any.whl: unpacks to more than 200 times its "
            "own size");
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 100 * 1024)  // KiB
      << "peak RSS grew by " << (after.ru_maxrss - before.ru_maxrss) << " KiB";
}

}  // namespace
}  // namespace pbrx::common::wheel
