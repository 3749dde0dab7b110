// `pbrx push-images`: pushes the images a previous `pbrx build-images` put
// into an OCI layout, for the projects in DIR... (as pbrx's push-images
// did): the images' names come from each project's metadata with --prefix
// (whose first component is the registry), their tags from --tag
// ("latest" when none is given, as build-images tags).
//
//   pbrx push-images [--prefix P] [--tag T]... [--from oci:DIR] [--json]
//       [--insecure-registry HOST[:PORT]]... [--registry-ca FILE]
//       [--push-jobs N] [DIR...]
//
// Prints "NAME:TAG@sha256:DIGEST" per pushed tag. Exit codes: 0 all
// pushed; 1 a project or push failed (the others are still pushed); 2
// usage error.
#ifndef PBRX_CLIENT_PUSH_IMAGES_COMMAND_H_
#define PBRX_CLIENT_PUSH_IMAGES_COMMAND_H_

#include <string>
#include <vector>

#include "client/build_images_command.h"
#include "client/image_push.h"
#include "common/flag_parser.h"

namespace pbrx::client {

// The flags' values (defaults as the command starts with them).
struct PushImagesFlags {
  std::string prefix;
  std::vector<std::string> tags;
  std::string from = "oci:pbrx-images";
  std::string cache_dir;
  bool json = false;
  RegistryFlags registry;
  std::vector<std::string> dirs;
};

// The command's flags, help and examples (also for completions and man
// pages).
void AddPushImagesFlags(common::FlagParser& p, PushImagesFlags* f);

int RunPushImagesCommand(const std::vector<std::string>& args,
                         BuildImagesIo& io);

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_PUSH_IMAGES_COMMAND_H_
