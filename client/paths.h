// Paths as the CLI resolves them.
#ifndef PBRX_CLIENT_PATHS_H_
#define PBRX_CLIENT_PATHS_H_

#include <unistd.h>

#include <string>

namespace pbrx::client {

// `p` made absolute against the current directory ("." is the directory
// itself).
inline std::string Absolute(const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  char buf[4096];
  std::string cwd = getcwd(buf, sizeof(buf)) != nullptr ? buf : ".";
  return p == "." ? cwd : cwd + "/" + p;
}

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_PATHS_H_
