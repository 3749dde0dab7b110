#include "client/cli.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/flag_config.h"

namespace pbrx::client {

std::vector<std::string> SettingsFiles(const GetEnv& getenv) {
  std::vector<std::string> files = {"/etc/pbrx/pbrx.toml"};
  const char* xdg = getenv("XDG_CONFIG_HOME");
  const char* home = getenv("HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    files.push_back(absl::StrCat(xdg, "/pbrx/pbrx.toml"));
  } else if (home != nullptr && home[0] == '/') {
    files.push_back(absl::StrCat(home, "/.config/pbrx/pbrx.toml"));
  }
  return files;
}

std::string DefaultCacheDir(const GetEnv& getenv) {
  const char* xdg = getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return absl::StrCat(xdg, "/pbrx");
  const char* home = getenv("HOME");
  if (home == nullptr || home[0] != '/') {
    const struct passwd* pw = getpwuid(getuid());
    home = pw != nullptr && pw->pw_dir != nullptr ? pw->pw_dir : "/";
  }
  return absl::StrCat(home, "/.cache/pbrx");
}

int UsageError(std::ostream& err, const std::string& command,
               const std::string& message) {
  err << "pbrx " << command << ": " << message << "\n(see 'pbrx " << command
      << " --help')\n";
  return 2;
}

std::optional<int> ParseCommand(common::FlagParser& parser,
                                const std::string& command,
                                const std::vector<std::string>& args,
                                std::ostream& out, std::ostream& err,
                                const GetEnv& getenv) {
  // The settings table: [build-images], ..., [farm-status].
  const std::string section = absl::StrReplaceAll(command, {{" ", "-"}});
  for (const std::string& file : SettingsFiles(getenv)) {
    struct stat st;
    if (stat(file.c_str(), &st) != 0) continue;
    if (absl::Status s = common::ApplyConfigFile(parser, file, section);
        !s.ok()) {
      return UsageError(err, command, std::string(s.message()));
    }
  }
  if (absl::Status s = parser.ApplyEnvironment(getenv); !s.ok())
    return UsageError(err, command, std::string(s.message()));
  bool help = false;
  absl::Status s = parser.Parse(args, &help);
  if (help) {
    out << parser.Usage();
    return 0;
  }
  if (!s.ok()) return UsageError(err, command, std::string(s.message()));
  return std::nullopt;
}

std::set<std::string> PinnedSettings(const common::FlagParser& parser) {
  std::set<std::string> out;
  for (const auto& info : parser.Describe()) {
    bool pinned =
        info.source == "command line" || absl::StartsWith(info.source, "$");
    if (pinned && info.name == "prefix") out.insert("prefix");
    if (pinned && info.name == "tag") out.insert("tags");
  }
  return out;
}

std::string FirstGiven(const common::FlagParser& parser,
                       const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (parser.Given(n)) return "--" + n;
  }
  return "";
}

}  // namespace pbrx::client
