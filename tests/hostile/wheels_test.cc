// Hostile wheels: what a package index (or a sdist's build) can put in a
// wheel the farm installs into an image layer. Each case installs through
// the real installer (common/wheel) into a staging root beside a canary and
// asserts the exact outcome and that nothing outside the staging root
// changed; installs that succeed must have written only regular files and
// directories below the scheme's paths, without set-id or world-writable
// modes.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/wheel/wheel_installer.h"
#include "gtest/gtest.h"
#include "tests/hostile/host_canary.h"
#include "tests/test_util.h"
#include "tests/zip_writer.h"

namespace pbrx::hostile {
namespace {

using testing_util::ZipEntry;
constexpr char kWheel[] = "victim-1.0-py3-none-any.whl";
constexpr char kDist[] = "victim-1.0.dist-info";

struct WheelCase {
  std::string name;
  std::vector<ZipEntry> entries;  // besides METADATA, WHEEL (and RECORD)
  // Rewrites the generated RECORD (nullptr: as generated).
  std::function<std::string(std::string)> record;
  std::function<void(common::wheel::InstallScheme*)> scheme;
  std::string outcome;
};
void PrintTo(const WheelCase& c, std::ostream* os) { *os << c.name; }

std::vector<ZipEntry> Build(const WheelCase& c) {
  std::vector<ZipEntry> entries = {
      {std::string(kDist) + "/METADATA",
       "Metadata-Version: 2.1\nName: victim\nVersion: 1.0\n"},
      {std::string(kDist) + "/WHEEL",
       "Wheel-Version: 1.0\nGenerator: hostile\nRoot-Is-Purelib: true\nTag: "
       "py3-none-any\n"}};
  entries.insert(entries.end(), c.entries.begin(), c.entries.end());
  std::string record;
  for (const ZipEntry& e : entries) {
    if (e.symlink) continue;
    absl::StrAppend(&record, e.name, ",", common::wheel::RecordHash(e.content),
                    ",", e.content.size(), "\n");
  }
  absl::StrAppend(&record, kDist, "/RECORD,,\n");
  if (c.record) record = c.record(record);
  entries.push_back({std::string(kDist) + "/RECORD", record});
  return entries;
}

// What an install left: ok plus a census, or the error.
std::string Outcome(const absl::StatusOr<common::wheel::InstalledWheel>& r,
                    const std::string& stage) {
  if (!r.ok()) return std::string(r.status().message());
  std::string census = UnsafeModes(stage, /*count_symlinks=*/true);
  std::string tool = testing_util::ReadFile(stage + "/usr/bin/tool");
  return absl::StrCat(
      "ok files=", r->files.size(), " scripts=", r->scripts.size(), census,
      tool.empty() ? "" : " tool: " + tool.substr(0, tool.find('\n')));
}

class HostileWheelTest : public ::testing::TestWithParam<WheelCase> {};

TEST_P(HostileWheelTest, RefusedOrConfinedAndTheHostIsUntouched) {
  HostCanary canary;
  std::string wheel = canary.dir() + "/" + kWheel;
  ASSERT_TRUE(testing_util::WriteZip(wheel, Build(GetParam())));
  common::wheel::InstallScheme scheme{"/usr/lib/python3/dist-packages",
                                      "/usr/lib/python3/dist-packages",
                                      "/usr/include/python3/victim",
                                      "/usr/bin",
                                      "/usr",
                                      "/usr/bin/python3"};
  if (GetParam().scheme) GetParam().scheme(&scheme);
  common::wheel::WheelLimits limits;
  limits.max_entry_bytes = 8 << 20;
  limits.max_total_bytes = 16 << 20;
  auto r = common::wheel::InstallWheel(wheel, scheme, canary.root(), limits);
  std::string outcome = Outcome(r, canary.root());
  if (std::getenv("HOSTILE_DISCOVER") != nullptr)
    std::printf("ACTUAL %s|%s\n", GetParam().name.c_str(), outcome.c_str());
  EXPECT_EQ(outcome, GetParam().outcome);
  EXPECT_TRUE(canary.Untouched({kWheel}));
}

std::string Script(const std::string& name, const std::string& target) {
  return absl::StrCat("[console_scripts]\n", name, " = ", target, "\n");
}

std::vector<WheelCase> Cases() {
  using C = WheelCase;
  const std::string ep = std::string(kDist) + "/entry_points.txt";
  auto record_replace = [](std::string from, std::string to) {
    return [from, to](std::string r) {
      return absl::StrReplaceAll(r, {{from, to}});
    };
  };
  return {
      C{"Benign",
        {{"victim/__init__.py", "x = 1\n"}, {ep, Script("v", "victim:main")}},
        nullptr,
        nullptr,
        "ok files=7 scripts=1"},
      C{"AbsoluteEntry",
        {{"/etc/pbrx-hostile", "x"}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: entry '/etc/pbrx-hostile' is absolute or "
        "contains '..'; refused"},
      C{"DotDotEntry",
        {{"victim/../../../pbrx-hostile", "x"}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: entry 'victim/../../../pbrx-hostile' is "
        "absolute or contains '..'; refused"},
      C{"DotDotThroughData",
        {{"victim-1.0.data/scripts/../../../../pbrx-hostile", "x"}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: entry "
        "'victim-1.0.data/scripts/../../../../pbrx-hostile' is absolute or "
        "contains '..'; refused"},
      C{"DataDirPurelibDotDot",
        {{"victim-1.0.data/purelib/../../../etc/pbrx-hostile", "x"}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: entry "
        "'victim-1.0.data/purelib/../../../etc/pbrx-hostile' is absolute or "
        "contains '..'; refused"},
      C{"UnknownDataScheme",
        {{"victim-1.0.data/evil/x", "x"}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: 'victim-1.0.data/evil/x': unknown .data "
        "directory 'evil'"},
      C{"SymlinkToEtc",
        {{"victim/link", "/etc/passwd", 0777, true}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: entry 'victim/link' is a symlink; "
        "refused"},
      C{"SymlinkToCanary",
        {{"victim/link", "../../../../canary/secret", 0777, true}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: entry 'victim/link' is a symlink; "
        "refused"},
      C{"EntryThenSymlinkSameName",
        {{"victim/x", "a"}, {"victim/x", "/etc/pbrx-hostile", 0777, true}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: entry 'victim/x' is a symlink; refused"},
      C{"DuplicateEntry",
        {{"victim/x", "first"}, {"victim/x", "second"}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: entry 'victim/x' appears twice"},
      C{"SetuidEntry",
        {{"victim/tool", "#!/bin/sh\n", 04755}},
        nullptr,
        nullptr,
        "ok files=5 scripts=0"},
      C{"WorldWritableEntry",
        {{"victim/data", "x", 0777}},
        nullptr,
        nullptr,
        "ok files=5 scripts=0"},
      C{"NotInRecord",
        {{"victim/x", "x"}},
        record_replace("victim/x,", "victim/y,"),
        nullptr,
        "victim-1.0-py3-none-any.whl: 'victim/x' is not listed in RECORD"},
      C{"RecordHashMismatch",
        {{"victim/x", "x"}},
        [](std::string r) {
          return absl::StrReplaceAll(r, {{common::wheel::RecordHash("x"),
                                          common::wheel::RecordHash("y")}});
        },
        nullptr,
        "victim-1.0-py3-none-any.whl: 'victim/x' does not match its RECORD "
        "hash/size"},
      C{"RecordNegativeSize",
        {{"victim/x", "x"}},
        record_replace(",1\n", ",-1\n"),
        nullptr,
        "victim-1.0-py3-none-any.whl: RECORD size '-1' of 'victim/x' is not a "
        "non-negative integer"},
      C{"RecordHugeSize",
        {{"victim/x", "x"}},
        record_replace(",1\n", ",99999999999999999999999\n"),
        nullptr,
        "victim-1.0-py3-none-any.whl: RECORD size '99999999999999999999999' of "
        "'victim/x' is not a non-negative integer"},
      C{"RecordPathEscape",
        {{"victim/x", "x"}},
        [](std::string r) { return r + "../../pbrx-hostile,,\n"; },
        nullptr,
        "victim-1.0-py3-none-any.whl: RECORD lists '../../pbrx-hostile', which "
        "is not in the wheel"},
      C{"RecordMissingColumns",
        {{"victim/x", "x"}},
        record_replace(",1\n", "\n"),
        nullptr,
        "victim-1.0-py3-none-any.whl: malformed RECORD line "
        "'victim/x,sha256=LXEWQrcmsEQBYnyp-6wy9chTD7GQPMTbAiWHF5IaSIE'"},
      C{"BigEntryOverTheLimit",
        {{"victim/big", std::string(9 << 20, '\0')}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: 'victim/big' unpacks to more than "
        "8388608 bytes"},
      C{"EntryPointShellTarget",
        {{ep, Script("v", "os:system('touch /tmp/pbrx-hostile')")}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: entry point 'v = os:system('touch "
        "/tmp/pbrx-hostile')' is not 'name = module.path:attr.path' with "
        "Python identifiers"},
      C{"EntryPointNameTraversal",
        {{ep, Script("../../../etc/pbrx-hostile", "victim:main")}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: entry point '../../../etc/pbrx-hostile = "
        "victim:main' has a name that is not a file name (letters, digits, . _ "
        "+ -, at most 128)"},
      C{"EntryPointNameWithSlash",
        {{ep, Script("bin/evil", "victim:main")}},
        nullptr,
        nullptr,
        "victim-1.0-py3-none-any.whl: entry point 'bin/evil = victim:main' has "
        "a name that is not a file name (letters, digits, . _ + -, at most "
        "128)"},
      C{"EntryPointHugeDottedTarget",
        {{ep, Script("v",
                     [] {
                       std::string t;
                       for (int i = 0; i < 200000; ++i) t += "a.";
                       return t + "a:main";
                     }())}},
        nullptr,
        nullptr,
        "ok files=6 scripts=1"},
      C{"ShebangLineReplacedWhole",
        {{"victim-1.0.data/scripts/tool",
          "#!python -c 'import os; os.system(\"touch "
          "/tmp/pbrx-hostile\")'\nprint(1)\n"}},
        nullptr,
        nullptr,
        "ok files=5 scripts=0 tool: #!/usr/bin/python3"},
      C{"SchemeWithDotDot",
        {{"victim/x", "x"}},
        nullptr,
        [](common::wheel::InstallScheme* s) { s->purelib = "/usr/../../etc"; },
        "install scheme purelib '/usr/../../etc' is not an absolute, "
        "normalised path without control characters"},
      C{"SchemeRelative",
        {{"victim/x", "x"}},
        nullptr,
        [](common::wheel::InstallScheme* s) { s->purelib = "usr/lib"; },
        "install scheme purelib 'usr/lib' is not an absolute, normalised path "
        "without control characters"},
      C{"SchemeControlCharacter",
        {{"victim/x", "x"}},
        nullptr,
        [](common::wheel::InstallScheme* s) { s->scripts = "/usr/bin\n/etc"; },
        "install scheme scripts '/usr/bin\\n/etc' is not an absolute, "
        "normalised path without control characters"},
      C{"InterpreterWithNewline",
        {{ep, Script("v", "victim:main")}},
        nullptr,
        [](common::wheel::InstallScheme* s) {
          s->python = "/usr/bin/python3\nimport os";
        },
        "install scheme python '/usr/bin/python3\\nimport os' is not an "
        "absolute, normalised path without control characters"},
  };
}

INSTANTIATE_TEST_SUITE_P(Wheels, HostileWheelTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

TEST(HostileWheelFileTest, NotAZip) {
  HostCanary canary;
  std::string wheel = canary.dir() + "/" + kWheel;
  std::ofstream(wheel) << "PK\x03\x04 this is not a zip";
  // (The message names the file the installer was given.)
  common::wheel::InstallScheme scheme{"/usr/lib",     "/usr/lib",
                                      "/usr/include", "/usr/bin",
                                      "/usr",         "/usr/bin/python3"};
  auto r = common::wheel::InstallWheel(wheel, scheme, canary.root());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      absl::StrReplaceAll(r.status().message(), {{canary.dir(), "{dir}"}}),
      "{dir}/victim-1.0-py3-none-any.whl: not a readable wheel (zip): "
      "Unrecognized archive format");
  EXPECT_TRUE(canary.Untouched({kWheel}));
}

}  // namespace
}  // namespace pbrx::hostile
