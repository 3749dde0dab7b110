// Man pages (roff, section 1) for pbrx and each subcommand, generated from
// the commands' flag definitions: `pbrx man DIR` writes pbrx.1 and
// pbrx-COMMAND.1 (tools/install puts them under share/man/man1).
#ifndef PBRX_CLIENT_MAN_PAGES_H_
#define PBRX_CLIENT_MAN_PAGES_H_

#include <map>
#include <string>
#include <vector>

#include "client/command_docs.h"

namespace pbrx::client {

// File name ("pbrx-build-images.1") to page text.
std::map<std::string, std::string> ManPages(
    const std::vector<CommandDoc>& commands, const std::string& version);

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_MAN_PAGES_H_
