// seed_cache: copies the reusable part of one pbrx cache database into
// another. Tests build in caches of their own (no step result made by an
// older build of pbrx is replayed); only what is slow and external may cross
// test runs: the Debian bases made with mmdebstrap and the distro-package
// layers apt installs from Debian's mirror. Those are the Action Cache
// entries whose Action runs with `debian-base=mmdebstrap` (the base step)
// or with `capture=rootfs-diff` and `network=egress` (a distro-layer step).
// Each entry is copied with every blob it references (Action, Command, input
// tree, outputs, logs), so the destination's completeness-checking Action Cache
// serves it.
//
//   seed_cache --from SRC_DB --to DST_DB [--skip-bases]
//
// --skip-bases leaves the Debian bases out (a test that builds its base).
//
// Prints "seed_cache: N entries copied, M already there, K skipped".
// Exit 0, or 1 with one line naming what failed. Not a product tool: the
// policy ("slow and external only") is the tests' rule (tests/seed_lib.sh).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/blob_store.h"
#include "cache/rocksdb_action_cache.h"
#include "cache/rocksdb_blob_store.h"
#include "cache/rocksdb_storage.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/status_macros.h"

namespace pbrx {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

struct Store {
  std::unique_ptr<cache::RocksDbStorage> storage;
  std::unique_ptr<cache::RocksDbBlobStore> cas;
  std::unique_ptr<cache::RocksDbActionCache> ac;
};

absl::StatusOr<Store> Open(const std::string& path, common::Clock* clock) {
  Store s;
  cache::RocksDbStorageOptions so;
  so.path = path;
  ASSIGN_OR_RETURN(s.storage, cache::RocksDbStorage::Open(so));
  ASSIGN_OR_RETURN(s.cas,
                   cache::RocksDbBlobStore::Create(s.storage.get(), clock, {}));
  s.ac = std::make_unique<cache::RocksDbActionCache>(s.storage.get());
  return s;
}

absl::Status CopyBlob(Store& from, Store& to, const Digest& d) {
  ASSIGN_OR_RETURN(std::vector<Digest> missing, to.cas->FindMissing({d}));
  if (missing.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::unique_ptr<cache::BlobReader> r,
                   from.cas->OpenRead(d, 0, 0));
  ASSIGN_OR_RETURN(std::unique_ptr<cache::BlobWriter> w, to.cas->OpenWrite(d));
  std::string piece;
  while (true) {
    ASSIGN_OR_RETURN(bool more, r->Next(&piece));
    if (!more) break;
    RETURN_IF_ERROR(w->Append(piece));
  }
  return w->Commit();
}

absl::Status CopyProtoDigest(Store& from, Store& to, const re::Digest& d) {
  if (d.hash().empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Digest digest, Digest::FromProto(d));
  return CopyBlob(from, to, digest);
}

absl::Status CopyTree(Store& from, Store& to, const re::Digest& root) {
  if (root.hash().empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Digest digest, Digest::FromProto(root));
  ASSIGN_OR_RETURN(std::string bytes, cache::ReadBlob(*from.cas, digest));
  re::Directory dir;
  if (!dir.ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat(digest.ToString(), " is not a Directory"));
  }
  RETURN_IF_ERROR(CopyBlob(from, to, digest));
  for (const auto& f : dir.files())
    RETURN_IF_ERROR(CopyProtoDigest(from, to, f.digest()));
  for (const auto& d : dir.directories())
    RETURN_IF_ERROR(CopyTree(from, to, d.digest()));
  return absl::OkStatus();
}

// Whether the action is the Debian base step.
bool IsBase(const re::Action& action) {
  for (const auto& p : action.platform().properties()) {
    if (p.name() == "debian-base" && p.value() == "mmdebstrap") return true;
  }
  return false;
}

// Whether the action is slow and external: a Debian base or an apt layer.
bool Reusable(const re::Action& action) {
  if (IsBase(action)) return true;
  bool diff = false, egress = false;
  for (const auto& p : action.platform().properties()) {
    if (p.name() == "capture" && p.value() == "rootfs-diff") diff = true;
    if (p.name() == "network" && p.value() == "egress") egress = true;
  }
  return diff && egress;
}

absl::Status CopyEntry(Store& from, Store& to, const Digest& action_digest,
                       const re::Action& action,
                       const re::ActionResult& result) {
  RETURN_IF_ERROR(CopyBlob(from, to, action_digest));
  RETURN_IF_ERROR(CopyProtoDigest(from, to, action.command_digest()));
  RETURN_IF_ERROR(CopyTree(from, to, action.input_root_digest()));
  for (const auto& f : result.output_files())
    RETURN_IF_ERROR(CopyProtoDigest(from, to, f.digest()));
  for (const auto& d : result.output_directories())
    RETURN_IF_ERROR(CopyProtoDigest(from, to, d.tree_digest()));
  RETURN_IF_ERROR(CopyProtoDigest(from, to, result.stdout_digest()));
  RETURN_IF_ERROR(CopyProtoDigest(from, to, result.stderr_digest()));
  return to.ac->Update(action_digest, result);
}

int Main(int argc, char** argv) {
  std::string from_path, to_path;
  bool skip_bases = false;
  bool usage = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--skip-bases") {
      skip_bases = true;
    } else if ((flag == "--from" || flag == "--to") && i + 1 < argc) {
      (flag == "--from" ? from_path : to_path) = argv[++i];
    } else {
      usage = true;
    }
  }
  if (usage || from_path.empty() || to_path.empty()) {
    std::cerr << "usage: seed_cache --from SRC_DB --to DST_DB [--skip-bases]\n";
    return 2;
  }
  common::RealClock clock;
  absl::StatusOr<Store> from = Open(from_path, &clock);
  absl::StatusOr<Store> to = Open(to_path, &clock);
  if (!from.ok() || !to.ok()) {
    std::cerr << "seed_cache: "
              << (from.ok() ? to.status() : from.status()).message() << "\n";
    return 1;
  }
  int copied = 0, present = 0, skipped = 0;
  std::unique_ptr<rocksdb::Iterator> it(from->storage->db()->NewIterator(
      rocksdb::ReadOptions(), from->storage->action_cache()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::StatusOr<Digest> action = Digest::FromKey(it->key().ToString());
    re::ActionResult result;
    if (!action.ok() || !result.ParseFromString(it->value().ToString())) {
      ++skipped;
      continue;
    }
    absl::StatusOr<std::string> action_bytes =
        cache::ReadBlob(*from->cas, *action);
    re::Action a;
    if (!action_bytes.ok() || !a.ParseFromString(*action_bytes)) {
      ++skipped;
      continue;
    }
    if (!Reusable(a) || (skip_bases && IsBase(a))) {
      ++skipped;
      continue;
    }
    if (to->ac->Get(*action).ok()) {
      ++present;
      continue;
    }
    absl::Status st = CopyEntry(*from, *to, *action, a, result);
    if (!st.ok()) {
      std::cerr << "seed_cache: copying " << action->ToString() << ": "
                << st.message() << "\n";
      return 1;
    }
    ++copied;
  }
  std::cout << "seed_cache: " << copied << " entries copied, " << present
            << " already there, " << skipped << " skipped\n";
  return 0;
}

}  // namespace
}  // namespace pbrx

int main(int argc, char** argv) { return pbrx::Main(argc, argv); }
