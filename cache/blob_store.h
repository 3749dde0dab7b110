// BlobStore: the content-addressed store (CAS) interface. Blobs are named by
// their Digest; reads and writes are streams so no blob is ever held whole in
// memory by the store. Implementations: InMemoryBlobStore (tests, embedded
// use) and RocksDbBlobStore (durable, chunked, size-bounded).
//
// Contract shared by every implementation (tests/blob_store_contract_test.cc):
// - The empty blob is always present and readable.
// - A write becomes visible only after BlobWriter::Commit() verified the
//   size and SHA-256; a writer destroyed without Commit() leaves nothing.
// - A read of a stored blob whose bytes no longer match its digest fails with
//   DATA_LOSS and the blob is dropped from the store.
// This interface knows nothing about REAPI instance names or gRPC.
#ifndef PBRX_CACHE_BLOB_STORE_H_
#define PBRX_CACHE_BLOB_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/digest.h"

namespace pbrx::cache {

using common::Digest;

// A stream of one blob's bytes. Not thread-safe; one reader per consumer.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // Replaces `*out` with the next piece of the requested range (at most a few
  // MiB). Returns false at the end of the range (then `*out` is empty).
  // DATA_LOSS when the stored bytes are corrupt (the blob has been dropped);
  // NOT_FOUND if the blob vanished in a way the reader cannot hide.
  virtual absl::StatusOr<bool> Next(std::string* out) = 0;
};

// Receives one blob's bytes in order. Not thread-safe.
class BlobWriter {
 public:
  // Destroying a writer without a successful Commit() discards everything
  // written through it.
  virtual ~BlobWriter() = default;
  // Appends bytes. INVALID_ARGUMENT once more bytes than the digest's size
  // were given; the writer is then unusable.
  virtual absl::Status Append(absl::string_view data) = 0;
  // Verifies that exactly `digest.size()` bytes hashing to `digest.hash()`
  // were appended and makes the blob visible atomically. INVALID_ARGUMENT on
  // a size or hash mismatch (nothing becomes visible). Committing a blob that
  // another writer already stored is OK.
  virtual absl::Status Commit() = 0;
  // Bytes appended so far.
  virtual int64_t bytes_written() const = 0;
};

// One blob of a batch write: its digest and its bytes (not owned).
struct BlobBytes {
  Digest digest;
  absl::string_view bytes;
};

struct BlobStoreStats {
  int64_t blobs = 0;      // stored blobs (the empty blob not counted)
  int64_t bytes = 0;      // sum of stored blob sizes (logical bytes)
  int64_t evictions = 0;  // blobs evicted since this store was opened
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Returns the subset of `digests` that is not stored, in input order
  // (duplicates reported once). Present blobs count as accessed (LRU).
  virtual absl::StatusOr<std::vector<Digest>> FindMissing(
      absl::Span<const Digest> digests) = 0;

  // Opens `digest` for reading bytes [offset, offset + limit); limit 0 means
  // to the end. NOT_FOUND if absent; OUT_OF_RANGE if offset > size. Reading
  // counts as an access.
  virtual absl::StatusOr<std::unique_ptr<BlobReader>> OpenRead(
      const Digest& digest, int64_t offset = 0, int64_t limit = 0) = 0;

  // Opens a writer for `digest`. RESOURCE_EXHAUSTED if the store cannot make
  // room for it. Thread-safe: concurrent writers of the same digest are fine.
  virtual absl::StatusOr<std::unique_ptr<BlobWriter>> OpenWrite(
      const Digest& digest) = 0;

  // Writes several blobs, each verified as by OpenWrite + Commit; the first
  // failure is returned (blobs before it may be stored). By default one
  // write per blob; a remote store sends small ones in as few calls as its
  // batch limits allow.
  virtual absl::Status WriteBlobs(absl::Span<const BlobBytes> blobs);

  // Removes a blob if present. OK either way.
  virtual absl::Status Delete(const Digest& digest) = 0;

  virtual BlobStoreStats Stats() = 0;
};

// Convenience: writes `content` as the blob `digest` (verifying it).
absl::Status WriteBlob(BlobStore& store, const Digest& digest,
                       absl::string_view content);
// Convenience: writes `content` under its own digest and returns that digest.
absl::StatusOr<Digest> WriteBlob(BlobStore& store, absl::string_view content);
// Convenience for small blobs: reads the whole blob into memory.
absl::StatusOr<std::string> ReadBlob(BlobStore& store, const Digest& digest);

}  // namespace pbrx::cache

#endif  // PBRX_CACHE_BLOB_STORE_H_
