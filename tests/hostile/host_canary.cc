#include "tests/hostile/host_canary.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/test_util.h"

namespace pbrx::hostile {
namespace {

void Walk(const std::string& path, const std::string& rel,
          std::map<std::string, std::string>* out) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  std::string desc = absl::StrCat(st.st_mode, ":", st.st_uid, ":", st.st_size,
                                  ":", st.st_mtim.tv_sec, ":");
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = readlink(path.c_str(), target, sizeof(target));
    desc += std::string(target, n > 0 ? n : 0);
  } else if (S_ISREG(st.st_mode)) {
    desc += testing_util::ReadFile(path);
  } else if (S_ISDIR(st.st_mode)) {
    DIR* d = opendir(path.c_str());
    if (d == nullptr) return;
    std::vector<std::string> names;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    closedir(d);
    for (const std::string& n : names) Walk(path + "/" + n, rel + "/" + n, out);
  }
  (*out)[rel] = desc;
}

}  // namespace

std::string UnsafeModes(const std::string& root, bool count_symlinks) {
  std::string census;
  std::vector<std::string> todo = {root};
  while (!todo.empty()) {
    std::string path = todo.back();
    todo.pop_back();
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      if (count_symlinks) census += " symlink";
      continue;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) census += " special";
    if (st.st_mode & (S_ISUID | S_ISGID)) census += " set-id";
    if (st.st_mode & S_IWOTH) census += " world-writable";
    if (!S_ISDIR(st.st_mode)) continue;
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") todo.push_back(path + "/" + n);
      }
      closedir(d);
    }
  }
  return census;
}

HostCanary::HostCanary() {
  dir_ = testing_util::NewTempDir("hostile");
  root_ = dir_ + "/tree";
  canary_ = dir_ + "/canary";
  mkdir(root_.c_str(), 0755);
  mkdir(canary_.c_str(), 0755);
  mkdir((canary_ + "/etc").c_str(), 0755);
  std::ofstream(secret_path()) << kSecret;
  std::ofstream(canary_ + "/etc/passwd") << "root:x:0:0::/root:/bin/sh\n";
  symlink("etc/passwd", (canary_ + "/link").c_str());
  before_ = Snapshot();
}

std::map<std::string, std::string> HostCanary::Snapshot() const {
  std::map<std::string, std::string> s;
  Walk(canary_, "canary", &s);
  return s;
}

::testing::AssertionResult HostCanary::Untouched(
    const std::vector<std::string>& allowed) const {
  if (Snapshot() != before_)
    return ::testing::AssertionFailure() << "the canary tree changed";
  DIR* d = opendir(dir_.c_str());
  if (d == nullptr) return ::testing::AssertionFailure() << "case dir gone";
  std::vector<std::string> extra;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == ".." || n == "tree" || n == "canary") continue;
    if (std::find(allowed.begin(), allowed.end(), n) == allowed.end())
      extra.push_back(n);
  }
  closedir(d);
  if (!extra.empty()) {
    return ::testing::AssertionFailure()
           << "new entry beside the tree: " << dir_ << "/" << extra.front();
  }
  for (const std::string& p : AimedAt()) {
    struct stat st;
    if (lstat(p.c_str(), &st) == 0)
      return ::testing::AssertionFailure() << p << " exists";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace pbrx::hostile
