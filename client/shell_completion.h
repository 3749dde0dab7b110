// Shell completion scripts for pbrx, generated from the commands' flag
// definitions (client/command_docs.h): `pbrx completion bash|zsh|fish`.
#ifndef PBRX_CLIENT_SHELL_COMPLETION_H_
#define PBRX_CLIENT_SHELL_COMPLETION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/command_docs.h"

namespace pbrx::client {

// The script for `shell` ("bash", "zsh" or "fish"); INVALID_ARGUMENT
// naming the shells otherwise.
absl::StatusOr<std::string> CompletionScript(
    const std::string& shell, const std::vector<CommandDoc>& commands);

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_SHELL_COMPLETION_H_
