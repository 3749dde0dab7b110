// `pbrx build-images`' flags: their values, and their definitions (help,
// examples, PBRX_* variables), shared by the command, `pbrx config`, the
// shell completions and the man pages.
#ifndef PBRX_CLIENT_BUILD_IMAGES_FLAGS_H_
#define PBRX_CLIENT_BUILD_IMAGES_FLAGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "client/farm_client.h"
#include "client/image_push.h"
#include "common/flag_parser.h"
#include "coordinator/image_pipeline.h"
#include "executor/action_runner.h"
#include "executor/sandbox_ids.h"

namespace pbrx::client {

struct BuildImagesFlags {
  // prefix, tags, platform, mirror, index_url, extra_index_urls,
  // trusted_hosts, find_links, constraints.
  coordinator::BuildOptions options;
  std::string output = "oci:pbrx-images";
  std::string base = "debian:bookworm";
  std::string cache_dir;
  bool json = false;
  std::string progress = "auto";  // auto, tty, plain, json
  bool push = false;
  std::string farm;
  FarmCredentials credentials;
  // Step limits of embedded mode: pbrx-executor's flags and defaults.
  executor::ActionRunnerOptions runner;
  bool allow_no_cgroups = false;
  executor::SandboxIds ids;
  int64_t jobs = 1;  // projects at once; the command starts with the cores
  RegistryFlags registry;
  std::vector<std::string> dirs;
};

void AddBuildImagesFlags(common::FlagParser& p, BuildImagesFlags* f);

// The defaults that depend on the host: the cache dir
// ($XDG_CACHE_HOME/pbrx or ~/.cache/pbrx) and the jobs (the cores).
void SetBuildImagesDefaults(
    BuildImagesFlags* f, const std::function<const char*(const char*)>& getenv);

// The flags of embedded mode's step limits (refused with --farm).
const std::vector<std::string>& EmbeddedLimitFlagNames();

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_BUILD_IMAGES_FLAGS_H_
