// `pbrx config [--json] [COMMAND [FLAGS...]]`: the settings COMMAND
// (default build-images) would run with, and where each came from: the
// command line, a PBRX_* variable, a settings file (FILE:LINE) or the
// default. Exit codes: 0, 2 usage error (a bad settings file included).
#ifndef PBRX_CLIENT_CONFIG_COMMAND_H_
#define PBRX_CLIENT_CONFIG_COMMAND_H_

#include <string>
#include <vector>

#include "client/build_images_command.h"
#include "client/cli.h"

namespace pbrx::client {

int RunConfigCommand(const std::vector<std::string>& args, BuildImagesIo& io,
                     const GetEnv& getenv);

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_CONFIG_COMMAND_H_
