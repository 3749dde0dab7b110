#include "cache/cas_source_tree.h"

#include <deque>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace pbrx::cache {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

constexpr int kMaxSymlinks = 40;  // as the kernel's ELOOP

void PushFront(std::deque<std::string>* todo, absl::string_view path) {
  std::vector<std::string> parts = absl::StrSplit(path, '/');
  for (auto it = parts.rbegin(); it != parts.rend(); ++it)
    todo->push_front(*it);
}

}  // namespace

absl::StatusOr<re::Directory> CasSourceTree::ReadDir(const Digest& d) const {
  {
    absl::MutexLock lock(&mu_);
    auto it = dirs_.find(d.ToString());
    if (it != dirs_.end()) return it->second;
  }
  absl::StatusOr<std::string> bytes = ReadBlob(*cas_, d);
  if (!bytes.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(label_, ": directory ", d.ToString(),
                     " of the uploaded tree is not in the CAS"));
  }
  re::Directory dir;
  if (!dir.ParseFromString(*bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        label_, ": directory ", d.ToString(), " is not a Directory message"));
  }
  absl::MutexLock lock(&mu_);
  dirs_.emplace(d.ToString(), dir);
  return dir;
}

absl::StatusOr<CasSourceTree::Node> CasSourceTree::Resolve(
    const std::string& relative) const {
  const std::string where = label_ + "/" + relative;
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat(where, " does not exist"));
  const absl::Status leaves = absl::InvalidArgumentError(
      absl::StrCat(where, ": leaves ", label_,
                   " (through a symlink or '..'); files are read only "
                   "beneath it"));
  if (absl::StartsWith(relative, "/")) return leaves;
  std::vector<Digest> stack = {root_};  // directories from the root down
  std::deque<std::string> todo;
  PushFront(&todo, relative);
  Node node{Kind::kDir, root_};
  int links = 0;
  while (!todo.empty()) {
    std::string c = todo.front();
    todo.pop_front();
    if (node.kind == Kind::kFile) return not_found;  // a file is no dir
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (stack.size() == 1) return leaves;
      stack.pop_back();
      node = Node{Kind::kDir, stack.back()};
      continue;
    }
    ASSIGN_OR_RETURN(re::Directory dir, ReadDir(stack.back()));
    bool found = false;
    for (const auto& f : dir.files()) {
      if (f.name() != c) continue;
      ASSIGN_OR_RETURN(Digest d, Digest::FromProto(f.digest()));
      node = Node{Kind::kFile, d};
      found = true;
      break;
    }
    if (found) continue;
    for (const auto& sub : dir.directories()) {
      if (sub.name() != c) continue;
      ASSIGN_OR_RETURN(Digest d, Digest::FromProto(sub.digest()));
      node = Node{Kind::kDir, d};
      stack.push_back(d);
      found = true;
      break;
    }
    if (found) continue;
    for (const auto& l : dir.symlinks()) {
      if (l.name() != c) continue;
      if (++links > kMaxSymlinks) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": too many symlinks"));
      }
      if (l.target().empty() || absl::StartsWith(l.target(), "/"))
        return leaves;
      PushFront(&todo, l.target());  // relative to the link's directory
      found = true;
      break;
    }
    if (!found) return not_found;
  }
  return node;
}

absl::StatusOr<std::string> CasSourceTree::ReadFile(const std::string& relative,
                                                    int64_t max_bytes) const {
  const std::string where = label_ + "/" + relative;
  if (relative.empty())  // as openat2 answers ""
    return absl::NotFoundError(absl::StrCat(where, " does not exist"));
  ASSIGN_OR_RETURN(Node node, Resolve(relative));
  if (node.kind != Kind::kFile) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": is not a regular file"));
  }
  if (node.digest.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", node.digest.size(),
                     " bytes, more than the limit of ", max_bytes));
  }
  absl::StatusOr<std::string> bytes = ReadBlob(*cas_, node.digest);
  if (!bytes.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, ": its blob ", node.digest.ToString(), " is not in the CAS"));
  }
  return *bytes;
}

absl::Status CasSourceTree::StreamFile(const std::string& relative,
                                       const ChunkFn& chunk) const {
  const std::string where = label_ + "/" + relative;
  if (relative.empty())
    return absl::NotFoundError(absl::StrCat(where, " does not exist"));
  ASSIGN_OR_RETURN(Node node, Resolve(relative));
  if (node.kind != Kind::kFile) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": is not a regular file"));
  }
  absl::StatusOr<std::unique_ptr<BlobReader>> reader =
      cas_->OpenRead(node.digest);
  if (!reader.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, ": its blob ", node.digest.ToString(), " is not in the CAS"));
  }
  std::string piece;
  while (true) {
    ASSIGN_OR_RETURN(bool more, (*reader)->Next(&piece));
    if (!more) return absl::OkStatus();
    RETURN_IF_ERROR(chunk(piece));
  }
}

bool CasSourceTree::IsFile(const std::string& relative) const {
  absl::StatusOr<Node> n = Resolve(relative);
  return n.ok() && n->kind == Kind::kFile;
}

bool CasSourceTree::IsDir(const std::string& relative) const {
  absl::StatusOr<Node> n = Resolve(relative);
  return n.ok() && n->kind == Kind::kDir;
}

}  // namespace pbrx::cache
