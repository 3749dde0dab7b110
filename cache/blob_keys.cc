#include "cache/blob_keys.h"

#include <zlib.h>

namespace pbrx::cache::blob_keys {

void AppendBE64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void AppendBE32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t ReadBE64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

uint32_t ReadBE32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string ChunkKey(uint64_t generation, uint32_t index) {
  std::string key;
  key.reserve(12);
  AppendBE64(&key, generation);
  AppendBE32(&key, index);
  return key;
}

std::string GenerationKey(uint64_t generation) {
  std::string key;
  AppendBE64(&key, generation);
  return key;
}

std::string LruKey(int64_t access_us, const common::Digest& digest) {
  std::string key;
  AppendBE64(&key, static_cast<uint64_t>(access_us));
  key += digest.ToKey();
  return key;
}

std::string EncodeMeta(uint64_t generation, int64_t access_us,
                       uint32_t chunk_size) {
  std::string v;
  v.reserve(kMetaSize);
  AppendBE64(&v, generation);
  AppendBE64(&v, static_cast<uint64_t>(access_us));
  AppendBE32(&v, chunk_size);
  return v;
}

uint32_t Crc32(absl::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; chunks are far below 4 GiB.
  return static_cast<uint32_t>(
      crc32(crc, reinterpret_cast<const Bytef*>(data.data()),
            static_cast<uInt>(data.size())));
}

}  // namespace pbrx::cache::blob_keys
