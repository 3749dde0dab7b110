#include "executor/work_dir.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/beneath.h"
#include "executor/action_runner.h"

namespace pbrx::executor {
namespace {

absl::Status Trusted(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(
        absl::StrCat("cannot create ", dir, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot stat ", dir, ": ", std::strerror(errno)));
  }
  if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is not a directory (a symlink or a file)"));
  }
  if (st.st_uid != geteuid()) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir, " is owned by uid ", st.st_uid, ", not by this process (uid ",
        geteuid(), "); refusing to work in it"));
  }
  if ((st.st_mode & 077) != 0 && chmod(dir.c_str(), 0700) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot make ", dir, " private: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PrepareWorkDir(const std::string& dir) {
  absl::Status s = Trusted(dir);
  if (!s.ok()) return s;
  std::string runs = dir + "/runs";
  s = Trusted(runs);
  if (!s.ok()) return s;
  DIR* d = opendir(runs.c_str());
  if (d == nullptr) {
    return absl::InternalError(absl::StrCat("cannot list ", runs));
  }
  std::vector<std::string> stale;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") stale.push_back(runs + "/" + n);
  }
  closedir(d);
  for (const std::string& p : stale) {
    s = common::RemoveTree(p);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace pbrx::executor
