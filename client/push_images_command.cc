#include "client/push_images_command.h"

#include <cstdlib>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/cli.h"
#include "client/image_push.h"
#include "client/paths.h"
#include "common/json_writer.h"
#include "common/project/project.h"
#include "coordinator/build_inputs.h"
#include "coordinator/planner.h"

namespace pbrx::client {
void AddPushImagesFlags(common::FlagParser& p, PushImagesFlags* f) {
  p.SetSynopsis("[FLAGS] [DIR...]");
  p.SetDescription(
      "Pushes the images a previous `pbrx build-images` made for the "
      "projects in DIR... (default: .) from an OCI layout to the registry "
      "their --prefix names: each blob the registry has is skipped, one "
      "another repository of it has is mounted, the rest is uploaded; tags "
      "last. Prints NAME:TAG@sha256:DIGEST per tag pushed.\n\n"
      "Exit codes: 0 all pushed, 1 an image failed (named, with the "
      "registry's answer), 2 usage error.");
  p.AddString("prefix", &f->prefix,
              "the registry and repository path the images were built with "
              "(e.g. registry.example.com/team); as build-images' --prefix");
  p.SetValueName("prefix", "P");
  p.SetEnvironment("prefix", "PBRX_PREFIX");
  p.AddStringList("tag", &f->tags,
                  "tags to push (default: latest), as build-images' --tag");
  p.SetValueName("tag", "T");
  p.AddString("from", &f->from, "the layout build-images wrote: oci:DIR");
  p.SetValueName("from", "oci:DIR");
  p.AddString("cache-dir", &f->cache_dir,
              "where pbrx keeps its state (which repositories hold which "
              "blob, for mounts)");
  p.SetValueName("cache-dir", "DIR");
  p.SetEnvironment("cache-dir", "PBRX_CACHE_DIR");
  p.AddBool("json", &f->json,
            "print a pbrx.push/v1 JSON report (bytes and blobs uploaded, "
            "mounted, skipped per image) instead of lines");
  AddRegistryFlags(p, &f->registry);
  p.AllowPositionals(&f->dirs);
  p.AddExample("pbrx push-images --prefix localhost:5000/team .",
               "push the images built for the project in . with that "
               "prefix");
  p.AddExample(
      "pbrx push-images --prefix registry.example.com/t --tag 1.2 --from "
      "oci:out a b",
      "push tag 1.2 of the images of projects a and b from the layout out");
}

int RunPushImagesCommand(const std::vector<std::string>& args,
                         BuildImagesIo& io) {
  PushImagesFlags f;
  f.cache_dir = DefaultCacheDir(std::getenv);
  common::FlagParser parser("pbrx push-images");
  AddPushImagesFlags(parser, &f);
  if (std::optional<int> rc = ParseCommand(parser, "push-images", args, *io.out,
                                           *io.err, std::getenv)) {
    return *rc;
  }
  std::string& prefix = f.prefix;
  std::string& from = f.from;
  std::vector<std::string>& tags = f.tags;
  std::vector<std::string>& dirs = f.dirs;
  const bool json = f.json;
  RegistryFlags& flags = f.registry;
  // Positionals' order kept; "." when none.
  std::string& cache_dir = f.cache_dir;
  if (dirs.empty()) dirs.push_back(".");
  if (!absl::StartsWith(from, "oci:") || from.size() <= 4)
    return UsageError(*io.err, "push-images", "--from must be oci:DIR");
  if (absl::Status s = coordinator::ValidateImageNaming(
          prefix, tags, coordinator::FieldNames::kFlags);
      !s.ok()) {
    return UsageError(*io.err, "push-images", std::string(s.message()));
  }
  const std::string layout = Absolute(from.substr(4));
  flags.state_dir = Absolute(cache_dir) + "/registries";
  if (!MakeDirs(flags.state_dir)) flags.state_dir.clear();
  std::vector<LayoutImage> images;
  std::vector<std::string> errors;
  coordinator::PlanOptions po;
  po.prefix = prefix;
  po.pinned = PinnedSettings(parser);
  po.tags = tags;
  for (const std::string& dir : dirs) {
    absl::StatusOr<common::project::Project> project =
        common::project::LoadProject(dir);
    if (!project.ok()) {
      errors.push_back(std::string(project.status().message()));
      continue;
    }
    absl::StatusOr<coordinator::Naming> naming =
        coordinator::EffectiveNaming(*project, po);
    if (!naming.ok()) {
      errors.push_back(absl::StrCat(dir, "/", naming.status().message()));
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
      images.push_back(
          LayoutImage{ip.name, coordinator::ImageTags(naming->tags)});
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
