#include "cache/rocksdb_blob_store.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "cache/blob_keys.h"
#include "cache/stream_verifier.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "rocksdb/write_batch.h"

namespace pbrx::cache {
namespace {

using blob_keys::AppendBE32;
using blob_keys::ChunkKey;
using blob_keys::Crc32;
using blob_keys::EncodeMeta;
using blob_keys::GenerationKey;
using blob_keys::kMetaSize;
using blob_keys::LruKey;
using blob_keys::ReadBE32;
using blob_keys::ReadBE64;

bool IsEmptyBlob(const Digest& d) {
  return d.size() == 0 && d == Digest::Empty();
}

}  // namespace

// ---------------------------------------------------------------- writer

class RocksDbBlobWriter : public BlobWriter {
 public:
  RocksDbBlobWriter(RocksDbBlobStore* store, Digest digest, uint64_t generation)
      : store_(store),
        digest_(digest),
        generation_(generation),
        verifier_(digest) {
    buffer_.reserve(static_cast<size_t>(
        std::min<int64_t>(store_->options_.chunk_size, digest.size())));
  }

  ~RocksDbBlobWriter() override {
    if (!committed_) store_->AbortUpload(digest_, generation_, reserved_);
  }

  absl::Status Append(absl::string_view data) override {
    if (!status_.ok()) return status_;
    status_ = verifier_.Update(data);
    if (!status_.ok()) return status_;
    const size_t chunk = static_cast<size_t>(store_->options_.chunk_size);
    while (!data.empty()) {
      size_t take = std::min(chunk - buffer_.size(), data.size());
      buffer_.append(data.data(), take);
      data.remove_prefix(take);
      if (buffer_.size() == chunk) {
        status_ = WriteBuffer();
        if (!status_.ok()) return status_;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (!status_.ok()) return status_;
    if (!buffer_.empty()) {
      status_ = WriteBuffer();
      if (!status_.ok()) return status_;
    }
    status_ = verifier_.Finish();
    if (!status_.ok()) return status_;
    status_ = store_->CommitUpload(digest_, generation_, reserved_);
    if (!status_.ok()) return status_;
    committed_ = true;
    status_ = absl::FailedPreconditionError("writer already committed");
    return absl::OkStatus();
  }

  int64_t bytes_written() const override { return verifier_.written(); }

 private:
  // Space for the buffered chunk first (it may evict), then the chunk.
  absl::Status WriteBuffer() {
    const int64_t n = static_cast<int64_t>(buffer_.size());
    RETURN_IF_ERROR(store_->Reserve(n));
    reserved_ += n;
    RETURN_IF_ERROR(store_->PutChunk(generation_, next_index_++, buffer_));
    buffer_.clear();
    return absl::OkStatus();
  }

  RocksDbBlobStore* store_;
  Digest digest_;
  uint64_t generation_;
  StreamVerifier verifier_;
  std::string buffer_;
  uint32_t next_index_ = 0;
  int64_t reserved_ = 0;  // bytes of this upload counted against the bound
  bool committed_ = false;
  absl::Status status_;
};

// The empty blob needs no storage at all.
class EmptyBlobWriter : public BlobWriter {
 public:
  explicit EmptyBlobWriter(Digest digest) : verifier_(std::move(digest)) {}
  absl::Status Append(absl::string_view data) override {
    return verifier_.Update(data);
  }
  absl::Status Commit() override { return verifier_.Finish(); }
  int64_t bytes_written() const override { return verifier_.written(); }

 private:
  StreamVerifier verifier_;
};

// ---------------------------------------------------------------- reader

class RocksDbBlobReader : public BlobReader {
 public:
  // `snapshot` is the one the meta was read in (released by the reader):
  // the chunks are read as they were then, whatever is evicted meanwhile.
  RocksDbBlobReader(RocksDbBlobStore* store, Digest digest, uint64_t generation,
                    uint32_t chunk_size, int64_t begin, int64_t end,
                    const rocksdb::Snapshot* snapshot)
      : store_(store),
        digest_(digest),
        generation_(generation),
        chunk_size_(chunk_size),
        pos_(begin),
        end_(end),
        verify_whole_(begin == 0 && end == digest.size()),
        upper_bound_key_(ChunkKey(generation + 1, 0)),
        upper_bound_(upper_bound_key_),
        snapshot_(snapshot) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot_;
    ro.fill_cache = false;
    ro.iterate_upper_bound = &upper_bound_;
    ro.readahead_size = 2 << 20;
    it_.reset(store_->storage_->db()->NewIterator(
        ro, store_->storage_->blob_chunks()));
    next_index_ = static_cast<uint32_t>(begin / chunk_size);
    it_->Seek(ChunkKey(generation, next_index_));
  }

  ~RocksDbBlobReader() override {
    it_.reset();  // before the snapshot it reads
    store_->storage_->db()->ReleaseSnapshot(snapshot_);
  }

  absl::StatusOr<bool> Next(std::string* out) override {
    out->clear();
    if (pos_ >= end_) return false;
    if (!it_->Valid()) {
      RETURN_IF_ERROR(FromRocksDb(it_->status(), "reading blob chunks"));
      return Corrupt(absl::StrCat("chunk ", next_index_, " is missing"));
    }
    rocksdb::Slice key = it_->key();
    if (key.size() != 12 || ReadBE64(key.data()) != generation_ ||
        ReadBE32(key.data() + 8) != next_index_) {
      return Corrupt(absl::StrCat("chunk ", next_index_, " is missing"));
    }
    rocksdb::Slice value = it_->value();
    if (value.size() < 4)
      return Corrupt(absl::StrCat("chunk ", next_index_, " is truncated"));
    absl::string_view data(value.data(), value.size() - 4);
    if (Crc32(data) != ReadBE32(value.data() + value.size() - 4)) {
      return Corrupt(
          absl::StrCat("chunk ", next_index_, " fails its CRC check"));
    }
    int64_t chunk_start = static_cast<int64_t>(next_index_) * chunk_size_;
    int64_t expected_len =
        std::min<int64_t>(chunk_size_, digest_.size() - chunk_start);
    if (static_cast<int64_t>(data.size()) != expected_len) {
      return Corrupt(absl::StrCat("chunk ", next_index_, " has ", data.size(),
                                  " bytes, expected ", expected_len));
    }
    if (verify_whole_) sha_.Update(data);
    int64_t skip = pos_ - chunk_start;
    int64_t take = std::min<int64_t>(expected_len - skip, end_ - pos_);
    out->assign(data.data() + skip, static_cast<size_t>(take));
    pos_ += take;
    ++next_index_;
    it_->Next();
    if (verify_whole_ && pos_ >= end_ && sha_.FinishHex() != digest_.hash()) {
      out->clear();
      return Corrupt("content does not match the digest");
    }
    return true;
  }

 private:
  absl::Status Corrupt(absl::string_view what) {
    pos_ = end_;
    store_->DropCorrupt(digest_, generation_);
    return absl::DataLossError(absl::StrCat("stored blob ", digest_.ToString(),
                                            " is corrupt (", what,
                                            ") and has been dropped"));
  }

  RocksDbBlobStore* store_;
  Digest digest_;
  uint64_t generation_;
  int64_t chunk_size_;
  int64_t pos_;
  int64_t end_;
  bool verify_whole_;
  std::string upper_bound_key_;
  rocksdb::Slice upper_bound_;
  const rocksdb::Snapshot* snapshot_;
  std::unique_ptr<rocksdb::Iterator> it_;
  uint32_t next_index_ = 0;
  common::Sha256 sha_;
};

class EmptyBlobReader : public BlobReader {
 public:
  absl::StatusOr<bool> Next(std::string* out) override {
    out->clear();
    return false;
  }
};

// ---------------------------------------------------------------- store

RocksDbBlobStore::RocksDbBlobStore(RocksDbStorage* storage,
                                   common::Clock* clock,
                                   const RocksDbBlobStoreOptions& options)
    : storage_(storage), clock_(clock), options_(options) {}

absl::StatusOr<std::unique_ptr<RocksDbBlobStore>> RocksDbBlobStore::Create(
    RocksDbStorage* storage, common::Clock* clock,
    const RocksDbBlobStoreOptions& options) {
  if (options.chunk_size <= 0 || options.chunk_size > (64 << 20)) {
    return absl::InvalidArgumentError("chunk size must be in (0, 64 MiB]");
  }
  if (options.max_size_bytes < 0) {
    return absl::InvalidArgumentError("max size must be >= 0");
  }
  std::unique_ptr<RocksDbBlobStore> store(
      new RocksDbBlobStore(storage, clock, options));
  RETURN_IF_ERROR(store->Recover());
  return store;
}

absl::Status RocksDbBlobStore::Recover() {
  rocksdb::DB* db = storage_->db();
  uint64_t max_generation = 0;
  // 1. Uploads a crash interrupted: delete their chunks and markers.
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), storage_->pending_uploads()));
    int64_t cleaned = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8) continue;
      uint64_t generation = ReadBE64(it->key().data());
      max_generation = std::max(max_generation, generation);
      rocksdb::WriteBatch batch;
      RETURN_IF_ERROR(FromRocksDb(
          batch.DeleteRange(storage_->blob_chunks(), ChunkKey(generation, 0),
                            ChunkKey(generation + 1, 0)),
          "cleaning an interrupted upload"));
      RETURN_IF_ERROR(
          FromRocksDb(batch.Delete(storage_->pending_uploads(), it->key()),
                      "cleaning an interrupted upload"));
      RETURN_IF_ERROR(storage_->Write(storage_->write_options(), &batch,
                                      "cleaning an interrupted upload", 0));
      ++cleaned;
    }
    RETURN_IF_ERROR(FromRocksDb(it->status(), "scanning interrupted uploads"));
    if (cleaned > 0) {
      common::LogInfo("cache: discarded ", cleaned,
                      " upload(s) interrupted by a crash");
    }
  }
  // 2. Accounting from the metadata.
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), storage_->blob_meta()));
    absl::MutexLock lock(&mu_);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      absl::StatusOr<Digest> digest = Digest::FromKey(
          absl::string_view(it->key().data(), it->key().size()));
      if (!digest.ok() || it->value().size() != kMetaSize) {
        return absl::DataLossError(
            "cache database holds a malformed blob metadata entry");
      }
      max_generation = std::max(max_generation, ReadBE64(it->value().data()));
      stored_bytes_ += digest->size();
      ++stored_blobs_;
    }
    RETURN_IF_ERROR(FromRocksDb(it->status(), "scanning blob metadata"));
  }
  // 3. Generations never go backwards, even past deleted chunks.
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), storage_->blob_chunks()));
    it->SeekToLast();
    if (it->Valid() && it->key().size() == 12) {
      max_generation = std::max(max_generation, ReadBE64(it->key().data()));
    }
  }
  next_generation_ = max_generation + 1;
  return absl::OkStatus();
}

absl::StatusOr<bool> RocksDbBlobStore::GetMeta(
    const Digest& digest, Meta* meta, const rocksdb::Snapshot* snapshot) {
  std::string value;
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  rocksdb::Status s =
      storage_->db()->Get(ro, storage_->blob_meta(), digest.ToKey(), &value);
  if (s.IsNotFound()) return false;
  RETURN_IF_ERROR(FromRocksDb(s, "reading blob metadata"));
  if (value.size() != kMetaSize) {
    return absl::DataLossError(
        absl::StrCat("metadata of blob ", digest.ToString(), " is malformed"));
  }
  meta->generation = ReadBE64(value.data());
  meta->last_access_us = static_cast<int64_t>(ReadBE64(value.data() + 8));
  meta->chunk_size = ReadBE32(value.data() + 16);
  return true;
}

absl::Status RocksDbBlobStore::Touch(const Digest& digest, const Meta& seen) {
  return TouchMany({{digest, seen}});
}

absl::Status RocksDbBlobStore::TouchMany(
    const std::vector<std::pair<Digest, Meta>>& seen) {
  int64_t now_us = absl::ToUnixMicros(clock_->Now());
  int64_t granularity_us =
      absl::ToInt64Microseconds(options_.touch_granularity);
  std::vector<const Digest*> stale;
  for (const auto& [digest, meta] : seen) {
    if (now_us - meta.last_access_us >= granularity_us)
      stale.push_back(&digest);
  }
  if (stale.empty()) return absl::OkStatus();
  // One batch for all refreshes, under one lock: FindMissing of thousands of
  // digests costs one write, not thousands.
  absl::MutexLock lock(&mu_);
  rocksdb::WriteBatch batch;
  for (const Digest* digest : stale) {
    Meta meta;
    ASSIGN_OR_RETURN(bool found, GetMeta(*digest, &meta));
    if (!found || meta.last_access_us >= now_us) continue;
    batch.Delete(storage_->blob_lru(), LruKey(meta.last_access_us, *digest));
    batch.Put(storage_->blob_lru(), LruKey(now_us, *digest), "");
    batch.Put(storage_->blob_meta(), digest->ToKey(),
              EncodeMeta(meta.generation, now_us, meta.chunk_size));
  }
  if (batch.Count() == 0) return absl::OkStatus();
  rocksdb::WriteOptions wo = storage_->write_options();
  wo.sync = false;  // access times are advisory
  return storage_->Write(wo, &batch, "refreshing blob access times", 0);
}

absl::StatusOr<std::vector<Digest>> RocksDbBlobStore::FindMissing(
    absl::Span<const Digest> digests) {
  std::vector<Digest> unique;
  unique.reserve(digests.size());
  absl::flat_hash_set<Digest> seen;
  for (const Digest& d : digests) {
    if (!IsEmptyBlob(d) && seen.insert(d).second) unique.push_back(d);
  }
  std::vector<std::string> keys;
  keys.reserve(unique.size());
  for (const Digest& d : unique) keys.push_back(d.ToKey());
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(),
                                                storage_->blob_meta());
  std::vector<std::string> values;
  std::vector<rocksdb::Status> statuses =
      storage_->db()->MultiGet(rocksdb::ReadOptions(), cfs, slices, &values);
  std::vector<Digest> missing;
  std::vector<std::pair<Digest, Meta>> present;
  present.reserve(unique.size());
  for (size_t i = 0; i < unique.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      missing.push_back(unique[i]);
      continue;
    }
    RETURN_IF_ERROR(FromRocksDb(statuses[i], "looking up blobs"));
    if (values[i].size() != kMetaSize) {
      missing.push_back(unique[i]);
      continue;
    }
    Meta meta;
    meta.generation = ReadBE64(values[i].data());
    meta.last_access_us = static_cast<int64_t>(ReadBE64(values[i].data() + 8));
    meta.chunk_size = ReadBE32(values[i].data() + 16);
    present.emplace_back(unique[i], meta);
  }
  RETURN_IF_ERROR(TouchMany(present));
  return missing;
}

absl::StatusOr<std::unique_ptr<BlobReader>> RocksDbBlobStore::OpenRead(
    const Digest& digest, int64_t offset, int64_t limit) {
  if (offset < 0 || limit < 0) {
    return absl::InvalidArgumentError("read offset and limit must be >= 0");
  }
  if (offset > digest.size()) {
    return absl::OutOfRangeError(absl::StrCat("read offset ", offset,
                                              " is past the end of blob ",
                                              digest.ToString()));
  }
  if (IsEmptyBlob(digest)) return std::make_unique<EmptyBlobReader>();
  // The meta and the chunks are read in one snapshot: an eviction (or a
  // re-upload) between the two cannot make a whole blob look corrupt.
  const rocksdb::Snapshot* snapshot = storage_->db()->GetSnapshot();
  auto release = [&] { storage_->db()->ReleaseSnapshot(snapshot); };
  Meta meta;
  absl::StatusOr<bool> found = GetMeta(digest, &meta, snapshot);
  if (!found.ok() || !*found) {
    release();
    if (!found.ok()) return found.status();
    return absl::NotFoundError(
        absl::StrCat("blob ", digest.ToString(), " not found"));
  }
  if (meta.chunk_size == 0) {
    release();
    DropCorrupt(digest, meta.generation);
    return absl::DataLossError(absl::StrCat("stored blob ", digest.ToString(),
                                            " has a zero chunk size"));
  }
  if (absl::Status touched = Touch(digest, meta); !touched.ok()) {
    release();
    return touched;
  }
  int64_t end = digest.size();
  if (limit > 0 && limit < end - offset) end = offset + limit;
  return std::make_unique<RocksDbBlobReader>(
      this, digest, meta.generation, meta.chunk_size, offset, end, snapshot);
}

absl::StatusOr<std::unique_ptr<BlobWriter>> RocksDbBlobStore::OpenWrite(
    const Digest& digest) {
  if (IsEmptyBlob(digest) || digest.size() == 0) {
    return std::make_unique<EmptyBlobWriter>(digest);
  }
  if (options_.max_size_bytes > 0 && digest.size() > options_.max_size_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("blob of ", digest.size(),
                     " bytes is larger than the cache's --max-size of ",
                     options_.max_size_bytes, " bytes"));
  }
  uint64_t generation = next_generation_.fetch_add(1);
  {
    absl::MutexLock lock(&mu_);
    ++pending_uploads_;
  }
  absl::Status s = storage_->Put(
      storage_->write_options(), storage_->pending_uploads(),
      GenerationKey(generation), digest.ToKey(), "registering an upload");
  if (!s.ok()) {
    absl::MutexLock lock(&mu_);
    --pending_uploads_;
    return s;
  }
  return std::make_unique<RocksDbBlobWriter>(this, digest, generation);
}

absl::Status RocksDbBlobStore::PutChunk(uint64_t generation, uint32_t index,
                                        absl::string_view data) {
  std::string value;
  value.reserve(data.size() + 4);
  value.append(data.data(), data.size());
  AppendBE32(&value, Crc32(data));
  rocksdb::WriteOptions wo = storage_->write_options();
  wo.sync = false;  // the commit batch syncs the WAL up to and including this
  return storage_->Put(wo, storage_->blob_chunks(), ChunkKey(generation, index),
                       value, "writing a blob chunk");
}

absl::Status RocksDbBlobStore::Reserve(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  return ReserveLocked(bytes);
}

absl::Status RocksDbBlobStore::CommitUpload(const Digest& digest,
                                            uint64_t generation,
                                            int64_t reserved) {
  absl::MutexLock lock(&mu_);
  reserved_bytes_ -= reserved;
  --pending_uploads_;
  Meta existing;
  ASSIGN_OR_RETURN(bool found, GetMeta(digest, &existing));
  rocksdb::WriteBatch batch;
  int64_t now_us = absl::ToUnixMicros(clock_->Now());
  if (found) {
    // Someone else stored the same bytes first: keep theirs, drop ours.
    batch.DeleteRange(storage_->blob_chunks(), ChunkKey(generation, 0),
                      ChunkKey(generation + 1, 0));
  } else {
    batch.Put(storage_->blob_meta(), digest.ToKey(),
              EncodeMeta(generation, now_us,
                         static_cast<uint32_t>(options_.chunk_size)));
    batch.Put(storage_->blob_lru(), LruKey(now_us, digest), "");
  }
  batch.Delete(storage_->pending_uploads(), GenerationKey(generation));
  RETURN_IF_ERROR(storage_->Write(storage_->write_options(), &batch,
                                  "committing a blob", 128));
  if (!found) {
    stored_bytes_ += digest.size();
    ++stored_blobs_;
  }
  return absl::OkStatus();
}

void RocksDbBlobStore::AbortUpload(const Digest& digest, uint64_t generation,
                                   int64_t reserved) {
  rocksdb::WriteBatch batch;
  batch.DeleteRange(storage_->blob_chunks(), ChunkKey(generation, 0),
                    ChunkKey(generation + 1, 0));
  batch.Delete(storage_->pending_uploads(), GenerationKey(generation));
  absl::Status s = storage_->Write(storage_->write_options(), &batch,
                                   "discarding an aborted upload", 0);
  if (!s.ok()) {
    // The pending marker stays; the next Open() cleans it up.
    common::LogWarning("cache: ", s.message());
  }
  absl::MutexLock lock(&mu_);
  reserved_bytes_ -= reserved;
  --pending_uploads_;
}

absl::Status RocksDbBlobStore::ReserveLocked(int64_t bytes) {
  if (options_.max_size_bytes > 0) {
    if (bytes > options_.max_size_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "blob of ", bytes, " bytes is larger than the cache's --max-size of ",
          options_.max_size_bytes, " bytes"));
    }
    if (stored_bytes_ + reserved_bytes_ + bytes > options_.max_size_bytes) {
      int64_t protect_after_us =
          absl::ToUnixMicros(clock_->Now()) -
          absl::ToInt64Microseconds(options_.min_age +
                                    options_.touch_granularity);
      // First find enough victims, then evict: a write that cannot fit
      // evicts nothing.
      int64_t excess =
          stored_bytes_ + reserved_bytes_ + bytes - options_.max_size_bytes;
      std::vector<Digest> victims;
      int64_t freed = 0;
      std::unique_ptr<rocksdb::Iterator> it(storage_->db()->NewIterator(
          rocksdb::ReadOptions(), storage_->blob_lru()));
      for (it->SeekToFirst(); it->Valid() && freed < excess; it->Next()) {
        if (it->key().size() != 48) continue;
        int64_t access_us = static_cast<int64_t>(ReadBE64(it->key().data()));
        if (access_us > protect_after_us) break;  // everything after is newer
        absl::StatusOr<Digest> victim =
            Digest::FromKey(absl::string_view(it->key().data() + 8, 40));
        if (!victim.ok()) continue;
        victims.push_back(*victim);
        freed += victim->size();
      }
      RETURN_IF_ERROR(FromRocksDb(it->status(), "scanning the LRU index"));
      if (freed >= excess) {
        for (const Digest& victim : victims) {
          RETURN_IF_ERROR(DeleteLocked(victim));
          ++evictions_;
        }
      }
      if (stored_bytes_ + reserved_bytes_ + bytes > options_.max_size_bytes) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "cache is full: ", stored_bytes_, " bytes stored and ",
            reserved_bytes_,
            " bytes being uploaded, all accessed within the last ",
            absl::FormatDuration(options_.min_age), "; cannot fit ", bytes,
            " more bytes under --max-size ", options_.max_size_bytes));
      }
    }
  }
  reserved_bytes_ += bytes;
  return absl::OkStatus();
}

absl::Status RocksDbBlobStore::DeleteLocked(const Digest& digest) {
  Meta meta;
  ASSIGN_OR_RETURN(bool found, GetMeta(digest, &meta));
  if (!found) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  batch.Delete(storage_->blob_meta(), digest.ToKey());
  batch.Delete(storage_->blob_lru(), LruKey(meta.last_access_us, digest));
  batch.DeleteRange(storage_->blob_chunks(), ChunkKey(meta.generation, 0),
                    ChunkKey(meta.generation + 1, 0));
  RETURN_IF_ERROR(
      storage_->Write(storage_->write_options(), &batch, "deleting a blob", 0));
  stored_bytes_ -= digest.size();
  --stored_blobs_;
  return absl::OkStatus();
}

absl::Status RocksDbBlobStore::Delete(const Digest& digest) {
  if (IsEmptyBlob(digest)) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  return DeleteLocked(digest);
}

void RocksDbBlobStore::DropCorrupt(const Digest& digest, uint64_t generation) {
  absl::MutexLock lock(&mu_);
  Meta meta;
  absl::StatusOr<bool> found = GetMeta(digest, &meta);
  // Only the generation found corrupt: a blob uploaded again since is
  // another copy, and good.
  if (!found.ok() || !*found || meta.generation != generation) return;
  common::LogWarning("cache: dropping corrupt blob ", digest.ToString(),
                     " (generation ", generation, ")");
  absl::Status s = DeleteLocked(digest);
  if (!s.ok())
    common::LogWarning("cache: dropping corrupt blob failed: ", s.ToString());
}

BlobStoreStats RocksDbBlobStore::Stats() {
  absl::MutexLock lock(&mu_);
  BlobStoreStats stats;
  stats.blobs = stored_blobs_;
  stats.bytes = stored_bytes_;
  stats.evictions = evictions_;
  return stats;
}

int64_t RocksDbBlobStore::pending_uploads_for_testing() {
  absl::MutexLock lock(&mu_);
  return pending_uploads_;
}

absl::Status RocksDbBlobStore::CorruptChunkForTesting(const Digest& digest,
                                                      uint32_t index,
                                                      bool keep_crc) {
  Meta meta;
  ASSIGN_OR_RETURN(bool found, GetMeta(digest, &meta));
  if (!found) return absl::NotFoundError(digest.ToString());
  std::string value;
  std::string key = ChunkKey(meta.generation, index);
  RETURN_IF_ERROR(
      FromRocksDb(storage_->db()->Get(rocksdb::ReadOptions(),
                                      storage_->blob_chunks(), key, &value),
                  "reading chunk to corrupt"));
  if (value.size() <= 4)
    return absl::FailedPreconditionError("chunk too small to corrupt");
  value[0] = static_cast<char>(value[0] ^ 0x5a);
  if (keep_crc) {
    std::string data = value.substr(0, value.size() - 4);
    value = data;
    AppendBE32(&value, Crc32(data));
  }
  return storage_->Put(storage_->write_options(), storage_->blob_chunks(), key,
                       value, "corrupting chunk");
}

}  // namespace pbrx::cache
