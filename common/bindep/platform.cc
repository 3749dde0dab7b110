#include "common/bindep/platform.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace pbrx::common::bindep {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

// What bindep's `re.search(r'\((\D+)\)|,\s*(\D+)', VERSION)` captures, in
// one linear scan (a base image's VERSION may be huge; a backtracking regex
// engine would recurse once per character): at the first position where
// either alternative matches, "(" + the longest non-digit run ending in ")"
// or "," + optional spaces + the non-digit run after them.
std::string CodenameFromVersion(const std::string& v) {
  const size_t n = v.size();
  // run_end[i]: end of the non-digit run starting at i; last_paren[i]: the
  // last ')' in [i, run_end[i]). Both from the right, so the scan is linear.
  std::vector<size_t> run_end(n + 1, n);
  std::vector<size_t> last_paren(n + 1, std::string::npos);
  for (size_t i = n; i-- > 0;) {
    run_end[i] = IsDigit(v[i]) ? i : run_end[i + 1];
    last_paren[i] = IsDigit(v[i])        ? std::string::npos
                    : last_paren[i + 1] != std::string::npos
                        ? last_paren[i + 1]
                        : (v[i] == ')' ? i : std::string::npos);
  }
  for (size_t i = 0; i < n; ++i) {
    if (v[i] == '(') {
      // "(" then at least one non-digit, then ")" within the same run.
      size_t k = last_paren[i + 1];
      if (k != std::string::npos && k >= i + 2) return v.substr(i + 1, k - i - 1);
    }
    if (v[i] == ',') {
      size_t w = i + 1;
      while (w < n && IsSpace(v[w])) ++w;
      if (run_end[w] > w) return v.substr(w, run_end[w] - w);
      if (w > i + 1) return v.substr(w - 1, 1);  // \s* gave one back
    }
  }
  return "";
}

// Splits one logical os-release text into shell words, honouring quotes and
// backslashes like shlex in POSIX mode. Returns false on an unterminated
// quote and sets *bad_line.
bool ShellWords(absl::string_view text, std::vector<std::string>* words,
                int* bad_line) {
  size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    std::string word;
    int start_line = line;
    while (i < text.size()) {
      c = text[i];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') break;
      if (c == '\'' || c == '"') {
        char quote = c;
        ++i;
        bool closed = false;
        while (i < text.size()) {
          char q = text[i];
          if (q == quote) {
            closed = true;
            ++i;
            break;
          }
          if (q == '\n') ++line;
          if (quote == '"' && q == '\\' && i + 1 < text.size() &&
              (text[i + 1] == '"' || text[i + 1] == '\\' ||
               text[i + 1] == '$' || text[i + 1] == '`' ||
               text[i + 1] == '\n')) {
            if (text[i + 1] != '\n') word.push_back(text[i + 1]);
            i += 2;
            continue;
          }
          word.push_back(q);
          ++i;
        }
        if (!closed) {
          *bad_line = start_line;
          return false;
        }
        continue;
      }
      if (c == '\\' && i + 1 < text.size()) {
        if (text[i + 1] != '\n') word.push_back(text[i + 1]);
        i += 2;
        continue;
      }
      word.push_back(c);
      ++i;
    }
    words->push_back(std::move(word));
  }
  return true;
}

void AddBits(const std::string& id, const DistroInfo& d,
             std::set<std::string>* atoms) {
  // id-<codename words, cumulatively joined with '-'>
  std::vector<std::string> words =
      absl::StrSplit(d.codename, ' ', absl::SkipEmpty());
  for (size_t i = 0; i < words.size(); ++i) {
    atoms->insert(absl::StrCat(
        id, "-", absl::StrJoin(words.begin(), words.begin() + i + 1, "-")));
  }
  // id-<release prefixes>; "".split(".") is [""], hence "id-".
  std::vector<std::string> bits = absl::StrSplit(d.release, '.');
  for (size_t i = 0; i < bits.size(); ++i) {
    atoms->insert(absl::StrCat(
        id, "-", absl::StrJoin(bits.begin(), bits.begin() + i + 1, ".")));
  }
}

void AddAlias(const std::string& alias, const DistroInfo& d,
              std::set<std::string>* atoms) {
  atoms->insert(alias);
  AddBits(alias, d, atoms);
}

}  // namespace

const char* PackageManagerName(PackageManager pm) {
  switch (pm) {
    case PackageManager::kDpkg:
      return "dpkg";
    case PackageManager::kRpm:
      return "rpm";
    case PackageManager::kApk:
      return "apk";
    case PackageManager::kPacman:
      return "pacman";
    case PackageManager::kEmerge:
      return "emerge";
    case PackageManager::kBrew:
      return "brew";
    default:
      return "unknown";
  }
}

absl::StatusOr<std::map<std::string, std::string>> ParseOsRelease(
    absl::string_view content, absl::string_view filename) {
  std::vector<std::string> words;
  int bad_line = 0;
  if (!ShellWords(content, &words, &bad_line)) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ":", bad_line, ": unterminated quote"));
  }
  std::map<std::string, std::string> fields;
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    // Only shell assignments (NAME=value, NAME an identifier) are fields.
    if (eq == std::string::npos || eq == 0 || IsDigit(w[0]) ||
        !std::all_of(w.begin(), w.begin() + eq, [](char c) {
          return absl::ascii_isalnum(c) || c == '_';
        })) {
      continue;
    }
    fields[absl::AsciiStrToLower(w.substr(0, eq))] = w.substr(eq + 1);
  }
  return fields;
}

DistroInfo DistroFromOsRelease(
    const std::map<std::string, std::string>& fields) {
  auto get = [&](const char* key) -> const std::string* {
    auto it = fields.find(key);
    return it == fields.end() ? nullptr : &it->second;
  };
  DistroInfo d;
  if (const std::string* id = get("id")) {
    std::string v = absl::AsciiStrToLower(*id);
    for (char& c : v) {
      if (c == ' ') c = '_';
    }
    if (v == "ol") v = "oracle";
    if (v == "opensuse-leap") v = "opensuse";
    // bindep then drops any whitespace left.
    v.erase(std::remove_if(v.begin(), v.end(),
                           [](char c) { return absl::ascii_isspace(c); }),
            v.end());
    d.id = v;
  }
  if (const std::string* c = get("version_codename")) {
    d.codename = *c;
  } else if (const std::string* u = get("ubuntu_codename")) {
    d.codename = *u;
  } else if (const std::string* version = get("version")) {
    d.codename = CodenameFromVersion(*version);
  }
  d.codename = absl::AsciiStrToLower(d.codename);
  if (const std::string* v = get("version_id"))
    d.release = absl::AsciiStrToLower(*v);
  if (const std::string* n = get("name")) d.name = *n;
  return d;
}

absl::StatusOr<Platform> PlatformFromDistro(const DistroInfo& d) {
  if (d.id.empty()) {
    return absl::FailedPreconditionError(
        "Unable to determine distro ID. Does /etc/os-release exist or is "
        "lsb_release "
        "installed?");
  }
  std::set<std::string> atoms{d.id};
  AddBits(d.id, d, &atoms);
  Platform platform;
  static const std::set<std::string> kRpmDistros = {
      "amzn",
      "amazonami",
      "centos",
      "rhel",
      "redhatenterpriseserver",
      "redhatenterpriseworkstation",
      "fedora",
      "opensuseproject",
      "opensuse",
      "opensuse-leap",
      "opensuse-tumbleweed",
      "sles",
      "suselinux",
      "ol",
      "oracle",
      "rocky",
      "virtuozzo",
      "almalinux"};
  const std::string& id = d.id;
  std::string name = absl::AsciiStrToLower(d.name);
  if (id == "debian" || id == "ubuntu") {
    atoms.insert("dpkg");
    platform.package_manager = PackageManager::kDpkg;
  } else if (kRpmDistros.count(id) > 0) {
    if (id == "redhatenterpriseserver" || id == "redhatenterpriseworkstation") {
      AddAlias("rhel", d, &atoms);
    } else if (id == "rhel" && absl::StrContains(name, "server")) {
      AddAlias("redhatenterpriseserver", d, &atoms);
    } else if (id == "rhel" && absl::StrContains(name, "workstation")) {
      AddAlias("redhatenterpriseworkstation", d, &atoms);
    } else if (absl::StrContains(id, "amzn")) {
      AddAlias("amazonami", d, &atoms);
    } else if (absl::StrContains(id, "amazonami")) {
      AddAlias("amzn", d, &atoms);
    } else if (absl::StrContains(id, "opensuse")) {
      AddAlias("opensuse", d, &atoms);
      AddAlias("opensuseproject", d, &atoms);
    } else if (absl::StrContains(id, "sles")) {
      AddAlias("suselinux", d, &atoms);
    } else if (absl::StrContains(id, "suselinux")) {
      AddAlias("sles", d, &atoms);
    } else if (id == "ol" || id == "oracle") {
      AddAlias("ol", d, &atoms);
      AddAlias("oracle", d, &atoms);
    }
    if (absl::StrContains(id, "suse") || id == "sles") {
      atoms.insert("suse");
    } else {
      atoms.insert("redhat");
    }
    atoms.insert("rpm");
    platform.package_manager = PackageManager::kRpm;
  } else if (id == "gentoo") {
    atoms.insert("emerge");
    platform.package_manager = PackageManager::kEmerge;
  } else if (id == "arch" || id == "manjaro") {
    atoms.insert("pacman");
    platform.package_manager = PackageManager::kPacman;
  } else if (id == "alpine") {
    atoms.insert("apk");
    platform.package_manager = PackageManager::kApk;
  } else if (id == "darwin") {
    atoms.insert("brew");
    platform.package_manager = PackageManager::kBrew;
  }
  for (const std::string& a : atoms)
    platform.atoms.push_back(absl::StrCat("platform:", a));
  return platform;
}

Platform PlatformFromSelectors(const std::vector<std::string>& selectors) {
  std::set<std::string> atoms;
  for (const std::string& s : selectors) {
    atoms.insert(
        absl::StartsWith(s, "platform:") ? s : absl::StrCat("platform:", s));
  }
  Platform platform;
  platform.atoms.assign(atoms.begin(), atoms.end());
  static const std::pair<const char*, PackageManager> kManagers[] = {
      {"platform:dpkg", PackageManager::kDpkg},
      {"platform:rpm", PackageManager::kRpm},
      {"platform:apk", PackageManager::kApk},
      {"platform:pacman", PackageManager::kPacman},
      {"platform:emerge", PackageManager::kEmerge},
      {"platform:brew", PackageManager::kBrew}};
  for (const auto& [atom, pm] : kManagers) {
    if (atoms.count(atom) > 0) platform.package_manager = pm;
  }
  return platform;
}

}  // namespace pbrx::common::bindep
