// The pbrx subcommands as data: name, one-line summary and flag
// definitions (the same FlagParser definitions the commands parse with),
// for `pbrx help`, shell completions and man pages.
#ifndef PBRX_CLIENT_COMMAND_DOCS_H_
#define PBRX_CLIENT_COMMAND_DOCS_H_

#include <string>
#include <vector>

#include "common/flag_parser.h"

namespace pbrx::client {

struct CommandDoc {
  std::string name;     // "build-images", "farm status"
  std::string summary;  // one line
  // The command's flags (bound to values no one reads); null for commands
  // without flags.
  const common::FlagParser* flags = nullptr;
};

// Every command, in the order `pbrx --help` lists them.
const std::vector<CommandDoc>& CommandDocs();

// The command whose name is closest to `name` (for "did you mean"), or "".
std::string ClosestCommand(const std::string& name);

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_COMMAND_DOCS_H_
