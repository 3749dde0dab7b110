#include "tests/test_util.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace pbrx::testing_util {

std::string NewTempDir(const std::string& prefix) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl =
      std::string(base != nullptr ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  return std::string(buf.data());
}

std::string DereferencedCopy(const std::string& src) {
  // One copy per source for the whole test process: a test that names the
  // same fixture twice gets the same path twice.
  static auto* copies = new std::map<std::string, std::string>;
  auto it = copies->find(src);
  if (it != copies->end()) return it->second;
  std::string name = src.substr(src.find_last_of('/') + 1);
  std::string dst = NewTempDir("copy") + "/" + name;
  std::filesystem::copy(src, dst, std::filesystem::copy_options::recursive);
  copies->emplace(src, dst);
  return dst;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

double MetricValue(const std::string& exposition, const std::string& series) {
  size_t pos = 0;
  while (pos < exposition.size()) {
    size_t end = exposition.find('\n', pos);
    if (end == std::string::npos) end = exposition.size();
    std::string line = exposition.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() > series.size() &&
        line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return -1;
}

}  // namespace pbrx::testing_util
