// `pbrx bindep`: bindep's command line, output and exit codes, plus two
// options of ours (--os-release FILE, --platform SELECTOR...).
//
//   pbrx bindep [-f FILE|-] [-b|--brief] [-l newline|csv] [--profiles]
//               [--os-release FILE] [--platform SELECTOR]... [PROFILE]...
//
// Exit codes (as bindep): 0 nothing missing / listing done; 1 packages
// missing or at bad versions, or the file could not be found or read or
// parsed, or the platform could not be determined; 2 usage error.
// Messages bindep prints go to stdout exactly as bindep words them; errors
// bindep has no words for (a parse error, an unreadable os-release) go to
// stderr as one line.
#ifndef PBRX_CLIENT_BINDEP_COMMAND_H_
#define PBRX_CLIENT_BINDEP_COMMAND_H_

#include <iostream>
#include <string>
#include <vector>

#include "common/bindep/package_query.h"

namespace pbrx::client {

struct BindepCommandIo {
  std::istream* in = &std::cin;
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;
  // Runs dpkg-query, rpm, ... for installed checks.
  common::bindep::CommandRunner* runner = nullptr;
  // Directory relative paths (and the default bindep.txt) are resolved in.
  std::string cwd = ".";
  // The host's os-release, used unless --os-release or --platform is given.
  std::string host_os_release = "/etc/os-release";
};

int RunBindepCommand(const std::vector<std::string>& args, BindepCommandIo& io);

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_BINDEP_COMMAND_H_
