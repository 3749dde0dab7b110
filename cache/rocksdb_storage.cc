#include "cache/rocksdb_storage.h"

#include <sys/statvfs.h>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace pbrx::cache {
namespace {

constexpr const char* kColumnFamilies[] = {
    "default",  "blob_meta",       "blob_chunks",
    "blob_lru", "pending_uploads", "action_cache",
};

}  // namespace

absl::Status FromRocksDb(const rocksdb::Status& status,
                         absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(context, ": ", status.ToString());
  switch (status.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(message);
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(message);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kTimedOut:
      return absl::UnavailableError(message);
    case rocksdb::Status::kIOError:
      if (status.subcode() == rocksdb::Status::kNoSpace) {
        return absl::ResourceExhaustedError(message);
      }
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<std::unique_ptr<RocksDbStorage>> RocksDbStorage::Open(
    const RocksDbStorageOptions& options) {
  std::shared_ptr<rocksdb::Cache> block_cache =
      rocksdb::NewLRUCache(options.block_cache_bytes);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Keep the WAL small: large blobs flow through memtables quickly.
  db_options.max_total_wal_size = 128 << 20;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 3;

  rocksdb::BlockBasedTableOptions small_table;
  small_table.block_cache = block_cache;
  small_table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));

  rocksdb::ColumnFamilyOptions small_cf;
  small_cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(small_table));
  small_cf.write_buffer_size = 8 << 20;

  // Chunks are up to 1 MiB values: store them in RocksDB's blob files so
  // compaction moves references, not data. Memtables stay small so a
  // multi-GiB upload never accumulates in memory.
  rocksdb::ColumnFamilyOptions chunk_cf;
  rocksdb::BlockBasedTableOptions chunk_table;
  chunk_table.block_cache = block_cache;
  chunk_cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(chunk_table));
  chunk_cf.write_buffer_size = 16 << 20;
  chunk_cf.max_write_buffer_number = 2;
  chunk_cf.enable_blob_files = true;
  chunk_cf.min_blob_size = 4096;
  chunk_cf.blob_file_size = 256 << 20;
  chunk_cf.enable_blob_garbage_collection = true;
  chunk_cf.blob_garbage_collection_age_cutoff = 0.5;
  chunk_cf.compression = rocksdb::kNoCompression;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : kColumnFamilies) {
    descriptors.emplace_back(
        name, std::string(name) == "blob_chunks" ? chunk_cf : small_cf);
  }

  std::unique_ptr<RocksDbStorage> storage(new RocksDbStorage());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors,
                                        &storage->handles_, &raw);
  if (!s.ok()) {
    return FromRocksDb(
        s, absl::StrCat("opening the cache database in ", options.path));
  }
  storage->db_.reset(raw);
  storage->write_options_.sync = options.sync_writes;
  storage->path_ = options.path;
  storage->min_free_bytes_ = options.min_free_bytes;
  return storage;
}

RocksDbStorage::~RocksDbStorage() {
  if (db_ == nullptr) return;
  rocksdb::FlushOptions flush;
  db_->Flush(flush, handles_).PermitUncheckedError();
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
}

int64_t RocksDbStorage::FreeBytes() const {
  struct statvfs st;
  if (statvfs(path_.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

absl::Status RocksDbStorage::CheckSpace(int64_t adds_bytes,
                                        absl::string_view context) {
  if (min_free_bytes_ <= 0 || adds_bytes <= 0) return absl::OkStatus();
  const int64_t free = FreeBytes();
  if (free < 0 || free - adds_bytes >= min_free_bytes_) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrCat(context, ": the cache's disk has ", free >> 20,
                   " MiB free, below --min-free-space ", min_free_bytes_ >> 20,
                   " MiB; writes resume once space is freed"));
}

absl::Status RocksDbStorage::Write(const rocksdb::WriteOptions& options,
                                   rocksdb::WriteBatch* batch,
                                   absl::string_view context,
                                   int64_t adds_bytes) {
  {
    absl::MutexLock lock(&failure_mu_);
    if (write_failed_) {
      // RocksDB must not see a write before it resumed (a write after a
      // failed write-ahead-log append aborts this RocksDB build).
      const int64_t free = FreeBytes();
      if (free >= 0 && free > min_free_bytes_) {
        rocksdb::Status r = db_->Resume();
        if (r.ok()) {
          common::LogInfo("cache: writes resumed after: ", failure_);
          write_failed_ = false;
        }
      }
      if (write_failed_) {
        return absl::UnavailableError(
            absl::StrCat(context, ": the cache stopped writing after ",
                         failure_, "; it resumes once space is freed"));
      }
    }
  }
  if (absl::Status s = CheckSpace(adds_bytes, context); !s.ok()) return s;
  rocksdb::Status s = db_->Write(options, batch);
  if (!s.ok() && (s.IsIOError() || s.IsNoSpace())) {
    absl::MutexLock lock(&failure_mu_);
    if (!write_failed_) {
      write_failed_ = true;
      failure_ = s.ToString();
      common::LogWarning(
          "cache: a write failed, writes stop until RocksDB "
          "resumes: ",
          failure_);
    }
  }
  return FromRocksDb(s, context);
}

absl::Status RocksDbStorage::Put(const rocksdb::WriteOptions& options,
                                 rocksdb::ColumnFamilyHandle* family,
                                 absl::string_view key, absl::string_view value,
                                 absl::string_view context) {
  rocksdb::WriteBatch batch;
  if (rocksdb::Status s =
          batch.Put(family, rocksdb::Slice(key.data(), key.size()),
                    rocksdb::Slice(value.data(), value.size()));
      !s.ok())
    return FromRocksDb(s, context);
  return Write(options, &batch, context,
               static_cast<int64_t>(key.size() + value.size()));
}

}  // namespace pbrx::cache
