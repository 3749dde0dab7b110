// The on-disk layout of RocksDbBlobStore's keys and values, in one place:
// big-endian integers, chunk keys (generation, index), pending-upload
// keys, LRU keys (access time, digest), the 20-byte meta value
// (generation, access time, chunk size) and the chunks' CRC-32.
#ifndef PBRX_CACHE_BLOB_KEYS_H_
#define PBRX_CACHE_BLOB_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/digest.h"

namespace pbrx::cache::blob_keys {

void AppendBE64(std::string* out, uint64_t v);
void AppendBE32(std::string* out, uint32_t v);
uint64_t ReadBE64(const char* p);
uint32_t ReadBE32(const char* p);

// 12 bytes: generation, then the chunk's index.
std::string ChunkKey(uint64_t generation, uint32_t index);
// 8 bytes: a pending upload's generation.
std::string GenerationKey(uint64_t generation);
// 8 bytes of access time (µs), then the digest's key.
std::string LruKey(int64_t access_us, const common::Digest& digest);

inline constexpr size_t kMetaSize = 20;
std::string EncodeMeta(uint64_t generation, int64_t access_us,
                       uint32_t chunk_size);

uint32_t Crc32(absl::string_view data);

}  // namespace pbrx::cache::blob_keys

#endif  // PBRX_CACHE_BLOB_KEYS_H_
