// libFuzzer target for staging an action's input root (REAPI Directory
// messages from any client) into a work directory. The input is a REAPI
// Tree; before staging, its digests are made real so the fuzzer reaches
// the tree walk: a FileNode's content is its digest's hash text, a
// DirectoryNode's hash "K" names Tree.children[K] (only K greater than the
// referring child's own index, so the graph stays acyclic as a content-
// addressed one must; other names stay missing). Besides "never crash":
// nothing appears outside the work directory (HostGuard), no staged
// symlink is absolute, and errors carry a message.
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/blob_store.h"
#include "cache/in_memory_blob_store.h"
#include "cache/directory_tree.h"
#include "tools/fuzz/host_guard.h"

namespace {

namespace re = build::bazel::remote::execution::v2;
using pbrx::common::Digest;

// Stores file contents and points directory nodes at children[K].
void Link(re::Directory* dir, int self, const std::vector<Digest>& children,
          pbrx::cache::BlobStore& cas) {
  for (re::FileNode& f : *dir->mutable_files()) {
    std::string content = f.digest().hash();
    Digest d = pbrx::cache::WriteBlob(cas, content).value();
    *f.mutable_digest() = d.ToProto();
  }
  for (re::DirectoryNode& n : *dir->mutable_directories()) {
    int k = 0;
    if (absl::SimpleAtoi(n.digest().hash(), &k) && k > self &&
        k < static_cast<int>(children.size())) {
      *n.mutable_digest() = children[k].ToProto();
    }
  }
}

// Only files, directories and relative symlinks are ever staged.
int CheckEntry(const char* path, const struct stat* st, int, FTW*) {
  if (S_ISLNK(st->st_mode)) {
    char target[4096];
    ssize_t n = readlink(path, target, sizeof(target));
    if (n <= 0 || target[0] == '/') std::abort();
  } else if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
    std::abort();
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pbrx::fuzz::HostGuard* guard = new pbrx::fuzz::HostGuard();
  re::Tree tree;
  if (!tree.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (tree.children_size() > 64) return 0;
  pbrx::cache::InMemoryBlobStore cas;
  std::vector<Digest> children(tree.children_size(), Digest::Empty());
  for (int i = tree.children_size(); i-- > 0;) {
    Link(tree.mutable_children(i), i, children, cas);
    children[i] =
        pbrx::cache::WriteBlob(cas, tree.children(i).SerializeAsString())
            .value();
  }
  Link(tree.mutable_root(), -1, children, cas);
  Digest root =
      pbrx::cache::WriteBlob(cas, tree.root().SerializeAsString()).value();
  std::string dest = guard->FreshTarget();
  absl::Status s = pbrx::cache::StageDirectory(root, cas, dest);
  guard->Check();
  pbrx::fuzz::Verbose(s);
  if (!s.ok() && s.message().empty()) std::abort();
  nftw(dest.c_str(), CheckEntry, 16, FTW_PHYS);
  return 0;
}
