#include "cache/blob_store.h"

#include "common/status_macros.h"

namespace pbrx::cache {

absl::Status WriteBlob(BlobStore& store, const Digest& digest,
                       absl::string_view content) {
  ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, store.OpenWrite(digest));
  RETURN_IF_ERROR(writer->Append(content));
  return writer->Commit();
}

absl::Status BlobStore::WriteBlobs(absl::Span<const BlobBytes> blobs) {
  for (const BlobBytes& b : blobs)
    RETURN_IF_ERROR(WriteBlob(*this, b.digest, b.bytes));
  return absl::OkStatus();
}

absl::StatusOr<Digest> WriteBlob(BlobStore& store, absl::string_view content) {
  Digest digest = Digest::Of(content);
  RETURN_IF_ERROR(WriteBlob(store, digest, content));
  return digest;
}

absl::StatusOr<std::string> ReadBlob(BlobStore& store, const Digest& digest) {
  ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, store.OpenRead(digest));
  std::string result;
  result.reserve(static_cast<size_t>(digest.size()));
  std::string piece;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&piece));
    if (!more) break;
    result += piece;
  }
  return result;
}

}  // namespace pbrx::cache
