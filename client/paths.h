// Paths as the CLI resolves them.
#ifndef PBRX_CLIENT_PATHS_H_
#define PBRX_CLIENT_PATHS_H_

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

// Creates `path` and its missing parents (mode 0755); false on failure.
inline bool MakeDirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      std::string p = path.substr(0, i);
      if (mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) return false;
    }
  }
  return true;
}

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_PATHS_H_
