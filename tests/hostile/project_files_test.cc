// Hostile project files: what an uploaded or checked-out project can put in
// pyproject.toml, setup.cfg, setup.py, requirements.txt and bindep.txt, read
// by the real loader (common/project LoadProject, the bindep parser). Each
// case asserts the exact status and message and that the host is untouched
// (HostCanary). Bombs must be handled in linear time and without deep
// recursion: the sizes below would take hours or overflow the stack
// otherwise (no timing is asserted; tools/bench has the numbers).
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/bindep/bindep_file.h"
#include "common/bindep/platform.h"
#include "common/project/project.h"
#include "gtest/gtest.h"
#include "tests/hostile/host_canary.h"

namespace pbrx::hostile {
namespace {

using absl::StatusCode;

void Write(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}
std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}
const std::string kProjectHead =
    "[project]\nname = 'victim'\nversion = '1.0'\n";
const std::string kCfgHead = "[metadata]\nname = victim\nversion = 1.0\n";

struct ProjectCase {
  std::string name;
  // Writes the project into root (the canary is beside it).
  std::function<void(const HostCanary&)> make;
  StatusCode code;
  // "{root}" stands for the project dir, "{dir}" for the case dir.
  std::string message;
};

void PrintTo(const ProjectCase& c, std::ostream* os) { *os << c.name; }

class HostileProjectTest : public ::testing::TestWithParam<ProjectCase> {};

TEST_P(HostileProjectTest, RefusedPreciselyAndTheHostIsUntouched) {
  HostCanary canary;
  GetParam().make(canary);
  absl::StatusOr<common::project::Project> p =
      common::project::LoadProject(canary.root());
  std::string message(p.status().message());
  if (std::getenv("HOSTILE_DISCOVER") != nullptr) {
    std::printf("ACTUAL %s|%d|%s\n", GetParam().name.c_str(),
                static_cast<int>(p.status().code()),
                absl::StrReplaceAll(message, {{canary.root(), "{root}"},
                                              {canary.dir(), "{dir}"}})
                    .substr(0, 400)
                    .c_str());
  }
  EXPECT_EQ(p.status().code(), GetParam().code) << message;
  EXPECT_EQ(message,
            absl::StrReplaceAll(GetParam().message, {{"{root}", canary.root()},
                                                     {"{dir}", canary.dir()}}));
  EXPECT_TRUE(canary.Untouched());
  if (p.ok()) {
    EXPECT_EQ(p->name.find(HostCanary::kSecret), std::string::npos);
  }
}

std::vector<ProjectCase> ProjectCases() {
  using C = ProjectCase;
  auto toml = [](std::string text) {
    return [text](const HostCanary& c) {
      Write(c.root() + "/pyproject.toml", text);
    };
  };
  auto cfg = [](std::string text) {
    return
        [text](const HostCanary& c) { Write(c.root() + "/setup.cfg", text); };
  };
  auto link = [](std::string name, std::string target) {
    return [name, target](const HostCanary& c) {
      std::string t =
          absl::StrReplaceAll(target, {{"{secret}", c.secret_path()}});
      symlink(t.c_str(), (c.root() + "/" + name).c_str());
    };
  };
  return {
      // toml++ 3.3 aborted (assert) or reached __builtin_unreachable on these.
      C{"TomlHeaderHash", toml("[#]\n"), StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:1:2: Error while parsing key: expected bare key "
        "starting character or string delimiter, saw '#'"},
      C{"TomlHeaderEquals", toml("[=]\n"), StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:1:2: Error while parsing key: expected bare key "
        "starting character or string delimiter, saw '='"},
      C{"TomlHeaderDel", toml("[\x7f]\n"), StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:1:2: Error while parsing key: expected bare key "
        "starting character or string delimiter, saw '\\u007F'"},
      C{"TomlArrayHeaderDot", toml("[[ .a]]\n"), StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:1:4: Error while parsing key: expected bare key "
        "starting character or string delimiter, saw '.'"},
      C{"TomlHeaderCyrillic", toml("[build\xd1\x8c]\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:1:7: Error while parsing table header: expected "
        "']', saw '\xd1"
        "\x8c"
        "'"},
      C{"TomlMultilineBackslashThenSection",
        toml(kProjectHead + "description = \"\"\"\\\n\xc2\xa7\"\"\"\n"),
        StatusCode::kOk, ""},
      C{"TomlInvalidUtf8", toml(kProjectHead + "description = '\xff\xfe'\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:4:15: Encountered invalid utf-8 sequence"},
      C{"TomlNulByte", toml(kProjectHead + std::string("x = 1\0\n", 7)),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:4:6: Error while parsing decimal integer: "
        "expected digit, saw '\\u0000'"},
      C{"TomlDeepArrays",
        toml(kProjectHead + "x = " + Repeat("[", 200000) + Repeat("]", 200000) +
             "\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:4:261: Error while parsing value: exceeded "
        "maximum nested value depth of 256 (TOML_MAX_NESTED_VALUES)"},
      C{"TomlDeepInlineTables",
        toml(kProjectHead + "x = " + Repeat("{a=", 200000) + "1" +
             Repeat("}", 200000) + "\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:4:773: Error while parsing value: exceeded "
        "maximum nested value depth of 256 (TOML_MAX_NESTED_VALUES)"},
      // toml++ nests a table per dotted segment, recursively: 200,000
      // segments overflowed the stack (a crash of the CLI or coordinator).
      C{"TomlLongDottedKey",
        toml(kProjectHead + Repeat("a.", 200000) + "b = 1\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:4: more than 256 '.' outside strings on one "
        "line: keys nested that deep are refused"},
      C{"TomlLongDottedHeader",
        toml(kProjectHead + "[" + Repeat("a.", 200000) + "b]\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:4: more than 256 '.' outside strings on one "
        "line: keys nested that deep are refused"},
      C{"TomlDotsInStringsAreFine",
        toml(kProjectHead + "description = '" + Repeat(".", 100000) + "'\n" +
             "readme = {text = \"\"\"\n" + Repeat(".", 100000) + "\n\"\"\"}\n"),
        StatusCode::kOk, ""},
      C{"TomlHugeString",
        toml(kProjectHead + "description = '" + std::string(10 << 20, 'x') +
             "'\n"),
        StatusCode::kOk, ""},
      C{"TomlOverTheCap", toml(std::string((16 << 20) + 1, '#')),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml: 16777217 bytes, more than the limit of "
        "16777216"},
      C{"TomlScriptNameWithShell",
        toml(kProjectHead +
             "[project.scripts]\n'x;touch /tmp/pbrx-hostile' = 'm:f'\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:5: entry point 'x;touch /tmp/pbrx-hostile = "
        "m:f' has a name that is not a file name (letters, digits, . _ + -, at "
        "most 128)"},
      C{"TomlScriptTargetInjection",
        toml(kProjectHead + "[project.scripts]\nx = \"os:system('touch "
                            "/tmp/pbrx-hostile')\"\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:5: entry point 'x = os:system('touch "
        "/tmp/pbrx-hostile')' is not 'name = module.path:attr.path' with "
        "Python identifiers"},
      C{"TomlScriptNameTraversal",
        toml(kProjectHead +
             "[project.scripts]\n'../../etc/pbrx-hostile' = 'm:f'\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:5: entry point '../../etc/pbrx-hostile = m:f' "
        "has a name that is not a file name (letters, digits, . _ + -, at most "
        "128)"},
      C{"TomlNameTraversal",
        toml("[project]\nname = '../pbrx-hostile'\nversion = '1'\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:2: '../pbrx-hostile' is not a valid project "
        "name"},
      C{"TomlVersionWithShell",
        toml("[project]\nname = 'v'\nversion = '1;touch /tmp/pbrx-hostile'\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:3: [project] version '1;touch "
        "/tmp/pbrx-hostile' is not a version (letters, digits, . + ! _ -, at "
        "most 64)"},
      C{"TomlExtraTraversal",
        toml(kProjectHead +
             "[project.optional-dependencies]\n'../x' = ['a']\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:5: extra '../x' is not a valid name (PEP 685)"},
      C{"TomlDependencyWithOption",
        toml(kProjectHead + "dependencies = ['--index-url=http://evil/ x']\n"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml:4: '--index-url=http://evil/ x' does not start "
        "with a project name"},
      C{"CfgFiveMegabytesLinear",
        cfg(kCfgHead + "description = first\n" +
            Repeat("  more text\n", 450000)),
        StatusCode::kOk, ""},
      C{"CfgHundredThousandSections",
        cfg(kCfgHead + Repeat("[s]\nk = v\n", 1) +
            [] {
              std::string s;
              for (int i = 0; i < 100000; ++i)
                absl::StrAppend(&s, "[s", i, "]\nk = v\n");
              return s;
            }()),
        StatusCode::kOk, ""},
      C{"CfgHundredThousandKeys",
        cfg(kCfgHead +
            [] {
              std::string s;
              for (int i = 0; i < 100000; ++i)
                absl::StrAppend(&s, "k", i, " = v\n");
              return s;
            }()),
        StatusCode::kOk, ""},
      C{"CfgFiveMegabyteLine",
        cfg(kCfgHead + "summary = " + std::string(5 << 20, 'y') + "\n"),
        StatusCode::kOk, ""},
      C{"CfgNulBytes", cfg(kCfgHead + std::string("x = \0\0\n", 7)),
        StatusCode::kOk, ""},
      C{"CfgScriptInjection",
        cfg(kCfgHead +
            "[entry_points]\nconsole_scripts =\n  x = os:system('id')\n"),
        StatusCode::kInvalidArgument,
        "{root}/setup.cfg:5: entry point 'x = os:system('id')' is not 'name = "
        "module.path:attr.path' with Python identifiers"},
      C{"CfgScriptNewline",
        cfg(kCfgHead + "[entry_points]\nconsole_scripts =\n  x = m:f\\n  y\n"),
        StatusCode::kInvalidArgument,
        "{root}/setup.cfg:5: entry point 'x = m:f\\n  y' is not 'name = "
        "module.path:attr.path' with Python identifiers"},
      C{"CfgSymlinkToCanary", link("setup.cfg", "{secret}"),
        StatusCode::kInvalidArgument,
        "{root}/setup.cfg: leaves {root} (through a symlink or '..'); files "
        "are read only beneath it"},
      C{"CfgSymlinkRelativeOut", link("setup.cfg", "../canary/secret"),
        StatusCode::kInvalidArgument,
        "{root}/setup.cfg: leaves {root} (through a symlink or '..'); files "
        "are read only beneath it"},
      C{"CfgSymlinkEtcPasswd", link("setup.cfg", "/etc/passwd"),
        StatusCode::kInvalidArgument,
        "{root}/setup.cfg: leaves {root} (through a symlink or '..'); files "
        "are read only beneath it"},
      C{"CfgSymlinkDevZero", link("setup.cfg", "/dev/zero"),
        StatusCode::kInvalidArgument,
        "{root}/setup.cfg: leaves {root} (through a symlink or '..'); files "
        "are read only beneath it"},
      C{"CfgFifo",
        [](const HostCanary& c) {
          mkfifo((c.root() + "/setup.cfg").c_str(), 0644);
        },
        StatusCode::kInvalidArgument,
        "{root}/setup.cfg: is not a regular file"},
      C{"CfgDirectory",
        [](const HostCanary& c) {
          mkdir((c.root() + "/setup.cfg").c_str(), 0755);
        },
        StatusCode::kInvalidArgument,
        "{root}/setup.cfg: is not a regular file"},
      C{"PyprojectSymlinkToCanary", link("pyproject.toml", "{secret}"),
        StatusCode::kInvalidArgument,
        "{root}/pyproject.toml: leaves {root} (through a symlink or '..'); "
        "files are read only beneath it"},
      C{"SetupPySymlinkOut", link("setup.py", "../canary/secret"),
        StatusCode::kInvalidArgument,
        "{root}/setup.py: leaves {root} (through a symlink or '..'); files are "
        "read only beneath it"},
      C{"RequirementsSymlinkOut",
        [](const HostCanary& c) {
          Write(c.root() + "/setup.cfg", kCfgHead);
          symlink("../canary/secret", (c.root() + "/requirements.txt").c_str());
        },
        StatusCode::kInvalidArgument,
        "{root}/requirements.txt: leaves {root} (through a symlink or '..'); "
        "files are read only beneath it"},
      C{"RequirementsFiveMegabytes",
        [](const HostCanary& c) {
          Write(c.root() + "/setup.cfg", kCfgHead);
          Write(c.root() + "/requirements.txt",
                Repeat("# comment line of a bomb\n", 220000));
        },
        StatusCode::kOk, ""},
      C{"SymlinkLoop",
        [](const HostCanary& c) {
          symlink("b", (c.root() + "/setup.cfg").c_str());
          symlink("setup.cfg", (c.root() + "/b").c_str());
        },
        StatusCode::kInvalidArgument, "{root}/setup.cfg: too many symlinks"},
  };
}

INSTANTIATE_TEST_SUITE_P(Projects, HostileProjectTest,
                         ::testing::ValuesIn(ProjectCases()),
                         [](const auto& info) { return info.param.name; });

// Text a base image's author (os-release) or a project (bindep.txt) writes,
// through the real parsers; the outcome summarised as "ok ..." or the error.
struct TextCase {
  std::string name;
  std::string kind;  // "os-release" or "bindep"
  std::function<std::string()> text;
  std::string outcome;
};
void PrintTo(const TextCase& c, std::ostream* os) { *os << c.name; }

std::string Outcome(const TextCase& c) {
  std::string text = c.text();
  if (c.kind == "os-release") {
    auto fields = common::bindep::ParseOsRelease(text, "os-release");
    if (!fields.ok()) return std::string(fields.status().message());
    common::bindep::DistroInfo d = common::bindep::DistroFromOsRelease(*fields);
    return absl::StrCat(
        "ok fields=", fields->size(),
        " id=", absl::CHexEscape(d.id.substr(0, 20)),
        " codename=", absl::CHexEscape(d.codename.substr(0, 20)), " (",
        d.codename.size(), ")");
  }
  auto file = common::bindep::ParseBindepFile(text, "bindep.txt");
  if (!file.ok()) return std::string(file.status().message());
  return absl::StrCat("ok rules=", file->rules.size());
}

class HostileTextTest : public ::testing::TestWithParam<TextCase> {};

TEST_P(HostileTextTest, ParsedInLinearTimeOrRefusedPrecisely) {
  HostCanary canary;
  std::string outcome = Outcome(GetParam());
  if (std::getenv("HOSTILE_DISCOVER") != nullptr)
    std::printf("ACTUAL %s|%s\n", GetParam().name.c_str(), outcome.c_str());
  EXPECT_EQ(outcome, GetParam().outcome);
  EXPECT_TRUE(canary.Untouched());
}

std::vector<TextCase> TextCases() {
  using C = TextCase;
  auto fixed = [](std::string t) { return [t] { return t; }; };
  return {
      // A backtracking regex recursed once per character of VERSION.
      C{"OsReleaseHugeParenthesisedVersion", "os-release",
        [] {
          return "ID=debian\nVERSION=\"(" + std::string(500 << 10, 'a') +
                 ")\"\n";
        },
        "ok fields=2 id=debian codename=aaaaaaaaaaaaaaaaaaaa (512000)"},
      C{"OsReleaseHugeCommaVersion", "os-release",
        [] {
          return "ID=debian\nVERSION=\"1," + std::string(500 << 10, ' ') +
                 "x\"\n";
        },
        "ok fields=2 id=debian codename=x (1)"},
      C{"OsReleaseMillionLines", "os-release",
        [] { return Repeat("A=b\n", 1000000) + "ID=debian\n"; },
        "ok fields=2 id=debian codename= (0)"},
      C{"OsReleaseFiveMegabyteWord", "os-release",
        [] { return "ID='" + std::string(5 << 20, 'x') + "'\n"; },
        "ok fields=1 id=xxxxxxxxxxxxxxxxxxxx codename= (0)"},
      C{"OsReleaseUnterminatedQuote", "os-release",
        fixed("ID=debian\nNAME=x\nVERSION=\"12 (bookworm)\n"),
        "os-release:3: unterminated quote"},
      C{"OsReleaseNulBytes", "os-release",
        fixed(std::string("ID=deb\0ian\nVERSION_CODENAME=\0\n", 31)),
        "ok fields=2 id=deb\\x00ian codename=\\x00 (1)"},
      C{"OsReleaseNonAssignments", "os-release",
        fixed("=debian\n1ID=x\nI-D=y\n$(id)\n`id`\nID=debian\n"),
        "ok fields=1 id=debian codename= (0)"},
      C{"OsReleaseBackslashAtEnd", "os-release", fixed("ID=debian\\"),
        "ok fields=1 id=debian\\\\ codename= (0)"},
      C{"OsReleaseAlternatingQuotes", "os-release",
        [] { return "ID=" + Repeat("'a'\"b\"", 200000) + "\n"; },
        "ok fields=1 id=abababababababababab codename= (0)"},
      C{"BindepFiveMegabytes", "bindep",
        [] { return Repeat("libfoo-dev [platform:dpkg compile]\n", 150000); },
        "ok rules=150000"},
      C{"BindepDeepParentheses", "bindep",
        [] { return "foo [" + std::string(100000, '(') + "]\n"; },
        "bindep.txt:1:7: expected ' ', ')' or a profile name (a-z 0-9 : - .), "
        "found '('"},
      C{"BindepHugeName", "bindep",
        [] { return std::string(1 << 20, 'a') + "\n"; },
        "bindep.txt:1:256: expected the end of the package name (at most 255 "
        "characters), found 'a'"},
      C{"BindepManyConstraints", "bindep",
        [] { return "foo " + Repeat("<=1 ", 100000) + "\n"; },
        "bindep.txt:1:9: expected '#', found '<'"},
      C{"BindepNulBytes", "bindep", fixed(std::string("foo\0bar\n", 8)),
        "bindep.txt:1:4: expected ' ', '#' or end of line, found byte 0x00"},
      C{"BindepUnterminatedProfile", "bindep", fixed("foo [platform:dpkg\n"),
        "bindep.txt:1:19: expected ' ', '(', ']' or a profile name (a-z 0-9 : "
        "- .), found end of line"},
      C{"BindepManyNegations", "bindep",
        [] { return "foo [" + Repeat("!", 100000) + "test]\n"; },
        "bindep.txt:1:7: expected a profile name (a-z 0-9 : - .), found '!'"},
      C{"BindepShellInName", "bindep", fixed("foo;touch /tmp/pbrx-hostile\n"),
        "bindep.txt:1:4: expected ' ', '#' or end of line, found ';'"},
      C{"BindepOptionAsName", "bindep", fixed("--allow-unauthenticated\n"),
        "bindep.txt:1:1: expected ' ', '#', a package name or end of line, "
        "found '-'"},
  };
}

INSTANTIATE_TEST_SUITE_P(Texts, HostileTextTest,
                         ::testing::ValuesIn(TextCases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace pbrx::hostile
