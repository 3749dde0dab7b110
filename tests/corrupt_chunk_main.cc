// corrupt_chunk: damages one stored chunk of a blob in a pbrx cache database
// the way a failing disk would (one byte flipped, its CRC left as it was),
// for tests of what the farm does when it reads such a blob. The cache must
// not be running (RocksDB's lock).
//
//   corrupt_chunk --db DB_DIR --blob HASH/SIZE [--chunk N]
//
// Prints "corrupt_chunk: chunk N of HASH/SIZE flipped"; exit 0, or 1 with one
// line naming what failed. Not a product tool.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "cache/rocksdb_blob_store.h"
#include "cache/rocksdb_storage.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/status_macros.h"

namespace pbrx {
namespace {

absl::Status Corrupt(const std::string& db, const std::string& blob,
                     uint32_t chunk) {
  ASSIGN_OR_RETURN(common::Digest digest, common::Digest::Parse(blob));
  cache::RocksDbStorageOptions so;
  so.path = db;
  ASSIGN_OR_RETURN(std::unique_ptr<cache::RocksDbStorage> storage,
                   cache::RocksDbStorage::Open(so));
  common::RealClock clock;
  ASSIGN_OR_RETURN(std::unique_ptr<cache::RocksDbBlobStore> cas,
                   cache::RocksDbBlobStore::Create(storage.get(), &clock, {}));
  return cas->CorruptChunkForTesting(digest, chunk, /*keep_crc=*/false);
}

int Main(int argc, char** argv) {
  std::string db, blob;
  uint32_t chunk = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--db") {
      db = value;
    } else if (flag == "--blob") {
      blob = value;
    } else if (flag == "--chunk" && absl::SimpleAtoi(value, &chunk)) {
    } else {
      std::fprintf(stderr, "corrupt_chunk: bad argument %s\n", flag.c_str());
      return 1;
    }
  }
  if (db.empty() || blob.empty()) {
    std::fprintf(stderr,
                 "usage: corrupt_chunk --db DB_DIR --blob HASH/SIZE "
                 "[--chunk N]\n");
    return 1;
  }
  if (absl::Status s = Corrupt(db, blob, chunk); !s.ok()) {
    std::fprintf(stderr, "corrupt_chunk: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("corrupt_chunk: chunk %u of %s flipped\n", chunk, blob.c_str());
  return 0;
}

}  // namespace
}  // namespace pbrx

int main(int argc, char** argv) { return pbrx::Main(argc, argv); }
