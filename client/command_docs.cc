#include "client/command_docs.h"

#include "client/build_images_flags.h"
#include "client/plan_command.h"
#include "client/push_images_command.h"

namespace pbrx::client {
namespace {

// bindep keeps its optparse-compatible parser (client/bindep_command.cc);
// this describes the same options for completions and man pages.
struct BindepDocFlags {
  std::string file, list_all, os_release;
  bool brief = false, profiles = false;
  std::vector<std::string> platforms, profile_args;
};

void AddBindepDocFlags(common::FlagParser& p, BindepDocFlags* f) {
  p.SetSynopsis(
      "[-b] [-f FILE] [-l newline|csv] [--profiles] "
      "[--os-release FILE] [--platform SEL]... [PROFILE]...");
  p.SetDescription(
      "Checks which distro packages from bindep.txt are missing on this "
      "host, or lists them, as OpenStack's bindep does (docs/bindep.md).\n\n"
      "Exit codes: 0 nothing missing, 1 packages missing, a bad version or "
      "a bad file, 2 usage error.");
  p.AddBool("brief", &f->brief, "list only missing packages, one per line");
  p.AddShort('b', "brief");
  p.AddString("file", &f->file,
              "package list file (default: bindep.txt or "
              "other-requirements.txt)");
  p.SetValueName("file", "FILE");
  p.AddShort('f', "file");
  p.AddString("list_all", &f->list_all,
              "list all dependencies, installed or not: newline or csv");
  p.SetValueName("list_all", "FORMAT");
  p.AddShort('l', "list_all");
  p.AddBool("profiles", &f->profiles,
            "list the platform and configuration profiles");
  p.AddString("os-release", &f->os_release,
              "derive the platform profiles from this os-release file");
  p.SetValueName("os-release", "FILE");
  p.AddStringList("platform", &f->platforms,
                  "use exactly these platform profiles, e.g. platform:rpm");
  p.SetValueName("platform", "SEL");
  p.AllowPositionals(&f->profile_args);
  p.AddExample("pbrx bindep compile",
               "the packages of the compile profile this host lacks");
  p.AddExample("pbrx bindep -b -f bindep.txt test", "the same, briefly");
}

struct Docs {
  BuildImagesFlags build_images;
  PushImagesFlags push_images;
  PlanFlags plan;
  FarmStatusFlags farm_status;
  BindepDocFlags bindep;
  common::FlagParser build_images_parser{"pbrx build-images"};
  common::FlagParser push_images_parser{"pbrx push-images"};
  common::FlagParser plan_parser{"pbrx plan"};
  common::FlagParser farm_status_parser{"pbrx farm status"};
  common::FlagParser bindep_parser{"pbrx bindep"};
  std::vector<CommandDoc> commands;

  Docs() {
    AddBuildImagesFlags(build_images_parser, &build_images);
    AddPushImagesFlags(push_images_parser, &push_images);
    AddPlanFlags(plan_parser, &plan);
    AddFarmStatusFlags(farm_status_parser, &farm_status);
    AddBindepDocFlags(bindep_parser, &bindep);
    commands = {
        {"build-images",
         "build the images of Python projects (in this process or on a "
         "farm)",
         &build_images_parser},
        {"push-images", "push the images build-images made to a registry",
         &push_images_parser},
        {"plan", "show the images and build steps of projects", &plan_parser},
        {"bindep", "check or list distro packages from bindep.txt",
         &bindep_parser},
        {"farm status", "executors, queue and step counts of a farm",
         &farm_status_parser},
        {"config",
         "show the effective settings of a command and their "
         "sources"},
        {"completion", "print a shell completion script (bash, zsh, fish)"},
        {"man", "write man pages into a directory"},
        {"version", "print the version"},
        {"help", "show the help of pbrx or of a command"},
    };
  }
};

}  // namespace

const std::vector<CommandDoc>& CommandDocs() {
  static const Docs* docs = new Docs();  // built once, never destroyed
  return docs->commands;
}

std::string ClosestCommand(const std::string& name) {
  std::vector<std::string> names;
  for (const CommandDoc& c : CommandDocs())
    names.push_back(c.name.substr(0, c.name.find(' ')));
  return common::ClosestName(name, names);
}

}  // namespace pbrx::client
