#include "client/push_images_command.h"

#include <cstdlib>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/arg_cursor.h"
#include "client/image_push.h"
#include "client/paths.h"
#include "common/json_writer.h"
#include "common/project/project.h"
#include "coordinator/build_inputs.h"
#include "coordinator/planner.h"

namespace pbrx::client {
namespace {

std::string Usage() {
  return absl::StrCat(
      "usage: pbrx push-images [--prefix P] [--tag T]... [--from oci:DIR] "
      "[--cache-dir DIR] [--json] ",
      kRegistryFlagsUsage, " [DIR...]\n");
}

int UsageError(BuildImagesIo& io, const std::string& message) {
  *io.err << "pbrx push-images: " << message << "\n" << Usage();
  return 2;
}

}  // namespace

int RunPushImagesCommand(const std::vector<std::string>& args,
                         BuildImagesIo& io) {
  std::string prefix, from = "oci:pbrx-images";
  std::vector<std::string> tags, dirs;
  bool json = false;
  RegistryFlags flags;
  const char* home = std::getenv("HOME");
  std::string cache_dir =
      absl::StrCat(home != nullptr ? home : "/root", "/.cache/pbrx");
  ArgCursor cursor(args);
  while (cursor.Next()) {
    const std::string a = cursor.name();
    std::string error;
    if (a == "-h" || a == "--help") {
      *io.out << Usage();
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--prefix") {
      if (!cursor.Value(&prefix))
        return UsageError(io, "--prefix needs a value");
    } else if (a == "--tag") {
      std::string t;
      if (!cursor.Value(&t)) return UsageError(io, "--tag needs a value");
      tags.push_back(t);
    } else if (a == "--cache-dir") {
      if (!cursor.Value(&cache_dir))
        return UsageError(io, "--cache-dir needs a value");
    } else if (a == "--from") {
      if (!cursor.Value(&from)) return UsageError(io, "--from needs oci:DIR");
    } else if (TakeRegistryFlag(cursor, &flags, &error)) {
      if (!error.empty()) return UsageError(io, error);
    } else if (absl::StartsWith(a, "-")) {
      return UsageError(io, "unknown option " + a);
    } else {
      dirs.push_back(cursor.raw());
    }
  }
  if (dirs.empty()) dirs.push_back(".");
  if (!absl::StartsWith(from, "oci:") || from.size() <= 4)
    return UsageError(io, "--from must be oci:DIR");
  if (absl::Status s = coordinator::ValidateImageNaming(
          prefix, tags, coordinator::FieldNames::kFlags);
      !s.ok()) {
    return UsageError(io, std::string(s.message()));
  }
  const std::string layout = Absolute(from.substr(4));
  flags.state_dir = Absolute(cache_dir) + "/registries";
  if (!MakeDirs(flags.state_dir)) flags.state_dir.clear();
  std::vector<LayoutImage> images;
  std::vector<std::string> errors;
  coordinator::PlanOptions po;
  po.prefix = prefix;
  po.tags = tags;
  for (const std::string& dir : dirs) {
    absl::StatusOr<common::project::Project> project =
        common::project::LoadProject(dir);
    if (!project.ok()) {
      errors.push_back(std::string(project.status().message()));
      continue;
    }
    coordinator::ProjectPlan plan =
        coordinator::PlanProject(*project, std::nullopt, po);
    if (!plan.images_known) {
      errors.push_back(absl::StrCat(
          dir,
          ": the image names come from the project's wheel build (its "
          "metadata is dynamic); push them with pbrx build-images --push"));
      continue;
    }
    for (const coordinator::ImagePlan& ip : plan.images)
      images.push_back(LayoutImage{ip.name, coordinator::ImageTags(tags)});
  }
  std::vector<PushedImage> pushed;
  LayoutImageSource source(layout);
  PushImages(source, images, flags, &pushed, &errors);
  for (const std::string& e : errors)
    *io.err << "pbrx push-images: " << e << "\n";
  if (json) {
    common::JsonWriter w;
    w.BeginObject();
    w.Key("schema").String("pbrx.push/v1");
    w.Key("pushed");
    WritePushedJson(pushed, w);
    w.Key("errors").StringArray(errors);
    w.EndObject();
    *io.out << w.str();
  } else {
    PrintPushed(pushed, *io.out);
  }
  return errors.empty() ? 0 : 1;
}

}  // namespace pbrx::client
