// RocksDbStorage owns one RocksDB database and the column families the cache
// keeps in it: blob metadata, blob chunks, the LRU index, in-progress
// uploads, and the Action Cache. It only opens, closes and hands out handles;
// the stores built on it (RocksDbBlobStore, RocksDbActionCache) own the
// meaning of the keys. Closing it flushes memtables so a clean shutdown
// leaves no WAL replay for the next start.
#ifndef PBRX_CACHE_ROCKSDB_STORAGE_H_
#define PBRX_CACHE_ROCKSDB_STORAGE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"

namespace pbrx::cache {

struct RocksDbStorageOptions {
  // Directory of the database; created if missing.
  std::string path;
  // fsync the WAL on every commit. Without it, acknowledged writes survive a
  // crash of the process (kill -9) but not of the machine.
  bool sync_writes = false;
  // Shared block cache for metadata and AC lookups.
  size_t block_cache_bytes = 32 << 20;
  // Writes that add data are refused (RESOURCE_EXHAUSTED) while the disk
  // has less free space than this: RocksDB itself never runs out (0: no
  // check).
  int64_t min_free_bytes = 0;
};

// Converts a RocksDB status into an absl::Status, prefixing `context`.
absl::Status FromRocksDb(const rocksdb::Status& status,
                         absl::string_view context);

class RocksDbStorage {
 public:
  // Opens (or creates) the database. INTERNAL or UNAVAILABLE (e.g. the
  // directory is locked by another process) with RocksDB's message otherwise.
  static absl::StatusOr<std::unique_ptr<RocksDbStorage>> Open(
      const RocksDbStorageOptions& options);
  ~RocksDbStorage();

  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* blob_meta() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* blob_chunks() { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* blob_lru() { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* pending_uploads() { return handles_[4]; }
  rocksdb::ColumnFamilyHandle* action_cache() { return handles_[5]; }
  const rocksdb::WriteOptions& write_options() const { return write_options_; }

  // Every write of the cache goes through here. A write adding `adds_bytes`
  // > 0 is refused while the disk's free space would fall below
  // min_free_bytes. After a write fails in RocksDB (e.g. the disk filled
  // up from elsewhere), no write reaches it again until Resume() succeeds
  // (tried on each write once space is back): UNAVAILABLE meanwhile, reads
  // go on. `context` names the operation in errors.
  absl::Status Write(const rocksdb::WriteOptions& options,
                     rocksdb::WriteBatch* batch, absl::string_view context,
                     int64_t adds_bytes);
  absl::Status Put(const rocksdb::WriteOptions& options,
                   rocksdb::ColumnFamilyHandle* family, absl::string_view key,
                   absl::string_view value, absl::string_view context);

  // Free bytes on the database's filesystem (-1 when unknown).
  int64_t FreeBytes() const;

 private:
  RocksDbStorage() = default;
  absl::Status CheckSpace(int64_t adds_bytes, absl::string_view context);

  std::string path_;
  int64_t min_free_bytes_ = 0;
  absl::Mutex failure_mu_;
  // RocksDB refused a write; nothing is written until it resumes.
  bool write_failed_ ABSL_GUARDED_BY(failure_mu_) = false;
  std::string failure_ ABSL_GUARDED_BY(failure_mu_);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_options_;
};

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_ROCKSDB_STORAGE_H_
