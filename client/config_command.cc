#include "client/config_command.h"

#include <sys/stat.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/build_images_flags.h"
#include "client/plan_command.h"
#include "client/push_images_command.h"
#include "common/json_writer.h"

namespace pbrx::client {
namespace {

// The command's parser with its real defaults, and the values it binds.
struct Bound {
  BuildImagesFlags build_images;
  PushImagesFlags push_images;
  PlanFlags plan;
  FarmStatusFlags farm_status;
  std::unique_ptr<common::FlagParser> parser;
};

bool Bind(const std::string& command, const GetEnv& getenv, Bound* b) {
  b->parser = std::make_unique<common::FlagParser>("pbrx " + command);
  if (command == "build-images") {
    SetBuildImagesDefaults(&b->build_images, getenv);
    AddBuildImagesFlags(*b->parser, &b->build_images);
  } else if (command == "push-images") {
    b->push_images.cache_dir = DefaultCacheDir(getenv);
    AddPushImagesFlags(*b->parser, &b->push_images);
  } else if (command == "plan") {
    AddPlanFlags(*b->parser, &b->plan);
  } else if (command == "farm status") {
    AddFarmStatusFlags(*b->parser, &b->farm_status);
  } else {
    return false;
  }
  return true;
}

}  // namespace

int RunConfigCommand(const std::vector<std::string>& args, BuildImagesIo& io,
                     const GetEnv& getenv) {
  bool json = false;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    if (args[i] == "--json" || args[i] == "--json=true") {
      json = true;
    } else if (args[i] == "--json=false") {
      json = false;
    } else if (args[i] == "-h" || args[i] == "--help") {
      *io.out << "usage: pbrx config [--json] [COMMAND [FLAGS...]]\n\n"
                 "Shows the settings COMMAND (default: build-images; also "
                 "push-images, plan, farm status) would run with, and where "
                 "each came from: the command line, a PBRX_* variable, a "
                 "settings file (FILE:LINE), or the default. Later sources "
                 "win: default, /etc/pbrx/pbrx.toml, "
                 "$XDG_CONFIG_HOME/pbrx/pbrx.toml, PBRX_*, the flags.\n";
      return 0;
    } else {
      break;
    }
  }
  std::string command = "build-images";
  if (i < args.size()) {
    command = args[i++];
    if (command == "farm" && i < args.size()) command += " " + args[i++];
  }
  Bound b;
  if (!Bind(command, getenv, &b)) {
    return UsageError(*io.err, "config",
                      "no settings for '" + command +
                          "' (build-images, push-images, plan, farm status)");
  }
  std::vector<std::string> rest(args.begin() + i, args.end());
  if (std::optional<int> rc =
          ParseCommand(*b.parser, command, rest, *io.out, *io.err, getenv)) {
    return *rc;
  }
  std::vector<std::string> files;
  for (const std::string& f : SettingsFiles(getenv)) {
    struct stat st;
    files.push_back(
        absl::StrCat(f, stat(f.c_str(), &st) == 0 ? "" : " (absent)"));
  }
  std::vector<common::FlagParser::Info> flags = b.parser->Describe();
  if (json) {
    common::JsonWriter w;
    w.BeginObject();
    w.Key("schema").String("pbrx.config/v1");
    w.Key("command").String(command);
    w.Key("settings_files").StringArray(SettingsFiles(getenv));
    w.Key("settings").BeginArray();
    for (const auto& f : flags) {
      w.BeginObject();
      w.Key("flag").String(f.name);
      w.Key("values").StringArray(f.values);
      w.Key("source").String(f.source.empty() ? "default" : f.source);
      if (!f.environment.empty()) w.Key("environment").String(f.environment);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    *io.out << w.str();
    return 0;
  }
  *io.out << "pbrx " << command
          << " settings; files: " << absl::StrJoin(files, ", ") << "\n";
  for (const auto& f : flags) {
    std::string value = f.values.empty() ? "" : absl::StrJoin(f.values, ",");
    std::string source = f.source.empty() ? "default" : f.source;
    *io.out << absl::StrFormat("  --%-24s %-40s %s\n", f.name, value, source);
  }
  return 0;
}

}  // namespace pbrx::client
