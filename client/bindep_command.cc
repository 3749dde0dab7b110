#include "client/bindep_command.h"

#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/bindep/bindep_file.h"
#include "common/bindep/debian_version.h"
#include "common/bindep/platform.h"
#include "common/bindep/selection.h"

namespace pbrx::client {
namespace {

namespace bd = common::bindep;

constexpr char kUsage[] = "Usage: pbrx bindep [options] [profile]";

constexpr char kHelp[] = R"(
Options:
  -h, --help            show this help message and exit
  -b, --brief           List only missing packages one per line.
  -f FILENAME, --file=FILENAME
                        Package list file (default: bindep.txt or other-
                        requirements.txt).
  --profiles            List the platform and configuration profiles.
  -l LIST_ALL, --list_all=LIST_ALL
                        List all dependencies needed to be installed,
                        regardless of whether they are installed (newline or
                        csv).
  --os-release=FILE     Derive the platform profiles from this os-release file
                        instead of the host's.
  --platform=SELECTOR   Use exactly these platform profiles (repeatable, e.g.
                        platform:rpm); no detection.
)";

struct Options {
  bool brief = false;
  bool profiles = false;
  bool file_given = false;
  std::string file;
  std::string list_all;  // "", "newline" or "csv"
  std::string os_release;
  std::vector<std::string> platforms;
  std::vector<std::string> positional;
};

int UsageError(BindepCommandIo& io, const std::string& message) {
  *io.err << kUsage << "\n\npbrx bindep: error: " << message << "\n";
  return 2;
}

std::string Resolve(const BindepCommandIo& io, const std::string& path) {
  if (path.empty() || path[0] == '/' || io.cwd.empty() || io.cwd == ".")
    return path;
  return absl::StrCat(io.cwd, "/", path);
}

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return false;
  *out = ss.str();
  return true;
}

// Parses optparse-style arguments. Returns -1 to continue, else an exit code.
int ParseArgs(const std::vector<std::string>& args, Options* o,
              BindepCommandIo& io) {
  auto needs_value = [&](size_t& i, const std::string& name,
                         const std::string& attached,
                         std::string* value) -> bool {
    if (!attached.empty()) {
      *value = attached;
      return true;
    }
    if (i + 1 >= args.size()) return false;
    *value = args[++i];
    return true;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      o->positional.insert(o->positional.end(), args.begin() + i + 1,
                           args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      o->positional.push_back(a);
      continue;
    }
    std::string name = a, attached;
    if (absl::StartsWith(a, "--")) {
      size_t eq = a.find('=');
      if (eq != std::string::npos) {
        name = a.substr(0, eq);
        attached = a.substr(eq + 1);
        if (attached.empty()) attached = std::string();
      }
    } else if (a.size() > 2) {
      name = a.substr(0, 2);
      attached = a.substr(2);
    }
    if (name == "-h" || name == "--help") {
      *io.out << kUsage << "\n" << kHelp;
      return 0;
    }
    if (name == "-b" || name == "--brief") {
      if (!attached.empty() && name == "-b") {
        // "-bX": bundled short options.
        std::vector<std::string> rest = {"-" + attached};
        rest.insert(rest.end(), args.begin() + i + 1, args.end());
        o->brief = true;
        return ParseArgs(rest, o, io);
      }
      o->brief = true;
    } else if (name == "--profiles") {
      o->profiles = true;
    } else if (name == "-f" || name == "--file") {
      if (!needs_value(i, name, attached, &o->file)) {
        return UsageError(io,
                          absl::StrCat(name, " option requires 1 argument"));
      }
      o->file_given = true;
    } else if (name == "-l" || name == "--list_all") {
      if (!needs_value(i, name, attached, &o->list_all)) {
        return UsageError(io,
                          absl::StrCat(name, " option requires 1 argument"));
      }
      if (o->list_all != "newline" && o->list_all != "csv") {
        return UsageError(
            io, absl::StrCat("option ", name, ": invalid choice: '",
                             o->list_all, "' (choose from 'newline', 'csv')"));
      }
    } else if (name == "--os-release") {
      if (!needs_value(i, name, attached, &o->os_release)) {
        return UsageError(io, "--os-release option requires 1 argument");
      }
    } else if (name == "--platform") {
      std::string v;
      if (!needs_value(i, name, attached, &v)) {
        return UsageError(io, "--platform option requires 1 argument");
      }
      o->platforms.push_back(v);
    } else {
      return UsageError(io, absl::StrCat("no such option: ", name));
    }
  }
  if (!o->os_release.empty() && !o->platforms.empty()) {
    return UsageError(io, "--os-release and --platform cannot be combined");
  }
  return -1;
}

}  // namespace

int RunBindepCommand(const std::vector<std::string>& args,
                     BindepCommandIo& io) {
  Options o;
  int rc = ParseArgs(args, &o, io);
  if (rc >= 0) return rc;

  // The rules file, found and reported the way bindep does.
  std::string content, filename;
  if (o.file_given && o.file == "-") {
    std::ostringstream ss;
    ss << io.in->rdbuf();
    content = ss.str();
    filename = "<stdin>";
  } else if (o.file_given && !o.file.empty()) {
    filename = o.file;
    if (!ReadFile(Resolve(io, o.file), &content)) {
      *io.out << "Error reading file " << o.file << ".\n";
      return 1;
    }
  } else {
    bool has_bindep = IsFile(Resolve(io, "bindep.txt"));
    bool has_other = IsFile(Resolve(io, "other-requirements.txt"));
    if (has_bindep && has_other) {
      *io.out << "Both bindep.txt and other-requirements.txt files exist, "
                 "choose one.\n";
      return 1;
    }
    if (!has_bindep && !has_other) {
      *io.out
          << "Neither file bindep.txt nor file other-requirements.txt exist.\n";
      return 1;
    }
    filename = has_bindep ? "bindep.txt" : "other-requirements.txt";
    if (!ReadFile(Resolve(io, filename), &content)) {
      *io.out << "Error reading file " << filename << ".\n";
      return 1;
    }
  }
  absl::StatusOr<bd::BindepFile> file = bd::ParseBindepFile(content, filename);
  if (!file.ok()) {
    *io.err << "pbrx bindep: " << file.status().message() << "\n";
    return 1;
  }

  // The platform: given, from a file, or from the host.
  bd::Platform platform;
  if (!o.platforms.empty()) {
    platform = bd::PlatformFromSelectors(o.platforms);
  } else {
    std::string path =
        o.os_release.empty() ? io.host_os_release : Resolve(io, o.os_release);
    std::string text;
    if (!ReadFile(path, &text)) {
      if (o.os_release.empty()) {
        *io.out << "Unable to determine distro ID. Does /etc/os-release exist "
                   "or is "
                   "lsb_release installed?\n";
      } else {
        *io.err << "pbrx bindep: cannot read os-release file " << o.os_release
                << "\n";
      }
      return 1;
    }
    auto fields =
        bd::ParseOsRelease(text, o.os_release.empty() ? path : o.os_release);
    if (!fields.ok()) {
      *io.err << "pbrx bindep: " << fields.status().message() << "\n";
      return 1;
    }
    absl::StatusOr<bd::Platform> detected =
        bd::PlatformFromDistro(bd::DistroFromOsRelease(*fields));
    if (!detected.ok()) {
      *io.out << detected.status().message() << "\n";
      return 1;
    }
    platform = *detected;
  }

  if (o.profiles) {
    *io.out << "Platform profiles:\n";
    for (const std::string& p : platform.atoms) *io.out << p << "\n";
    *io.out << "\nConfiguration profiles:\n";
    for (const std::string& p : bd::ConfigurationProfiles(*file))
      *io.out << p << "\n";
    return 0;
  }

  absl::flat_hash_set<std::string> profiles;
  if (o.positional.empty()) {
    profiles.insert("default");
  } else {
    profiles.insert(o.positional.begin(), o.positional.end());
  }
  profiles.insert(platform.atoms.begin(), platform.atoms.end());
  std::vector<bd::Rule> rules = bd::ActiveRules(*file, profiles);

  if (!o.list_all.empty()) {
    std::vector<std::string> names;
    for (const bd::Rule& r : rules) names.push_back(r.name);
    *io.out << absl::StrJoin(names, o.list_all == "csv" ? "," : "\n") << "\n";
    return 0;
  }

  if (rules.empty()) return 0;
  absl::StatusOr<std::unique_ptr<bd::PackageQuery>> query =
      bd::MakePackageQuery(platform.package_manager, io.runner);
  if (!query.ok()) {
    *io.err << "pbrx bindep: " << query.status().message() << "\n";
    return 1;
  }
  std::set<std::string> missing;
  std::vector<std::string> bad;
  for (const bd::Rule& r : rules) {
    absl::StatusOr<std::optional<std::string>> installed =
        (*query)->InstalledVersion(r.name);
    if (!installed.ok()) {
      *io.err << "pbrx bindep: " << installed.status().message() << "\n";
      return 1;
    }
    if (!installed->has_value()) {
      missing.insert(r.name);
      continue;
    }
    for (const bd::VersionConstraint& c : r.versions) {
      if (!bd::SatisfiesConstraint(**installed, c.op, c.version)) {
        bad.push_back(absl::StrCat("    ", r.name, " version ", **installed,
                                   " does not match ", c.op, c.version));
      }
    }
  }
  if (!missing.empty()) {
    if (o.brief) {
      *io.out << absl::StrJoin(missing, "\n") << "\n";
    } else {
      *io.out << "Missing packages:\n    " << absl::StrJoin(missing, " ")
              << "\n";
    }
  }
  if (!bad.empty() && !o.brief) {
    *io.out << "Bad versions of installed packages:\n"
            << absl::StrJoin(bad, "\n") << "\n";
  }
  return missing.empty() && bad.empty() ? 0 : 1;
}

}  // namespace pbrx::client
