#include "cache/rocksdb_action_cache.h"

#include "absl/strings/str_cat.h"

namespace pbrx::cache {

absl::StatusOr<ActionResult> RocksDbActionCache::Get(
    const common::Digest& action) {
  std::string value;
  rocksdb::Status s = storage_->db()->Get(
      rocksdb::ReadOptions(), storage_->action_cache(), action.ToKey(), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("no action result for ", action.ToString()));
  }
  if (!s.ok()) return FromRocksDb(s, "reading the action cache");
  ActionResult result;
  if (!result.ParseFromString(value)) {
    storage_->db()
        ->Delete(storage_->write_options(), storage_->action_cache(),
                 action.ToKey())
        .PermitUncheckedError();
    return absl::DataLossError(
        absl::StrCat("stored action result for ", action.ToString(),
                     " is corrupt and has been dropped"));
  }
  return result;
}

absl::Status RocksDbActionCache::Update(const common::Digest& action,
                                        const ActionResult& result) {
  std::string value;
  if (!result.SerializeToString(&value)) {
    return absl::InvalidArgumentError("action result cannot be serialized");
  }
  return storage_->Put(storage_->write_options(), storage_->action_cache(),
                       action.ToKey(), value, "writing the action cache");
}

absl::Status RocksDbActionCache::Remove(const common::Digest& action) {
  return FromRocksDb(
      storage_->db()->Delete(storage_->write_options(),
                             storage_->action_cache(), action.ToKey()),
      "removing from the action cache");
}

}  // namespace pbrx::cache
