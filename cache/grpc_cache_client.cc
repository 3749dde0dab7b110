#include "cache/grpc_cache_client.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/grpc_status.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "grpcpp/client_context.h"

namespace pbrx::cache {
namespace {

namespace re = build::bazel::remote::execution::v2;
namespace bs = google::bytestream;

// FindMissingBlobs requests stay well below gRPC's 4 MiB message limit.
constexpr size_t kMaxDigestsPerRequest = 10000;

// Whole blobs up to this size (Actions, Commands, Directories, small files)
// go by one unary BatchReadBlobs / BatchUpdateBlobs call: no stream to set
// up and close, about half the cost of a ByteStream call of the same bytes.
// Larger blobs and ranges go by ByteStream. Far below any sane
// max_batch_total_size_bytes (REAPI's own examples use 4 MiB).
constexpr int64_t kSmallBlobBytes = 64 * 1024;

void SetDeadline(grpc::ClientContext* ctx, absl::Duration d) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + d));
}

std::string ResourcePrefix(const std::string& instance) {
  return instance.empty() ? "" : instance + "/";
}

// The server's status with the call named first, once: a proxy (the
// coordinator's CAS) may have named it already.
absl::Status Remote(const grpc::Status& s, absl::string_view what) {
  absl::Status st = common::FromGrpcStatus(s);
  if (st.ok()) return st;
  const std::string prefix = absl::StrCat(what, ": ");
  if (absl::StartsWith(st.message(), prefix)) return st;
  return absl::Status(st.code(), absl::StrCat(prefix, st.message()));
}

// A batch call for one blob: the call's status, then that the server
// answered exactly once, then the answer's status, named once with the
// call and the blob (a proxy may have named them already).
absl::Status OneBlobStatus(const grpc::Status& call_status, int answers,
                           const google::rpc::Status& status,
                           absl::string_view call, const Digest& digest) {
  if (!call_status.ok()) return Remote(call_status, call);
  if (answers != 1) {
    return absl::DataLossError(absl::StrCat(call, " of ", digest.ToString(),
                                            ": ", answers,
                                            " answers to one blob"));
  }
  absl::Status st = common::FromRpcStatus(status);
  if (st.ok()) return st;
  const std::string prefix =
      absl::StrCat(call, " of ", digest.ToString(), ": ");
  if (absl::StartsWith(st.message(), prefix)) return st;
  return absl::Status(st.code(), absl::StrCat(prefix, st.message()));
}

class GrpcBlobReader : public BlobReader {
 public:
  GrpcBlobReader(std::unique_ptr<grpc::ClientContext> ctx,
                 std::unique_ptr<grpc::ClientReader<bs::ReadResponse>> reader,
                 std::string first, bool more)
      : ctx_(std::move(ctx)),
        reader_(std::move(reader)),
        pending_(std::move(first)),
        more_(more) {}

  absl::StatusOr<bool> Next(std::string* out) override {
    out->clear();
    if (!pending_.empty()) {
      out->swap(pending_);
      return true;
    }
    while (more_) {
      bs::ReadResponse r;
      if (!reader_->Read(&r)) {
        more_ = false;
        grpc::Status s = reader_->Finish();
        if (!s.ok()) return Remote(s, "ByteStream.Read");
        return false;
      }
      if (!r.data().empty()) {
        *out = std::move(*r.mutable_data());
        return true;
      }
    }
    return false;
  }

 private:
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientReader<bs::ReadResponse>> reader_;
  std::string pending_;
  bool more_;
};

// Reads nothing (the empty blob, or an empty range).
class EmptyReader : public BlobReader {
 public:
  absl::StatusOr<bool> Next(std::string* out) override {
    out->clear();
    return false;
  }
};

// A whole small blob, read by BatchReadBlobs.
class WholeBlobReader : public BlobReader {
 public:
  explicit WholeBlobReader(std::string data) : data_(std::move(data)) {}
  absl::StatusOr<bool> Next(std::string* out) override {
    out->clear();
    if (done_) return false;
    done_ = true;
    out->swap(data_);
    return true;
  }

 private:
  std::string data_;
  bool done_ = false;
};

// Writes a blob: a small one (kSmallBlobBytes) with one BatchUpdateBlobs
// call at Commit, a larger one as a ByteStream.Write stream sent in
// chunk_size messages as bytes arrive. Either way the size and hash are
// checked before the server commits anything.
class GrpcBlobWriter : public BlobWriter {
 public:
  GrpcBlobWriter(re::ContentAddressableStorage::Stub* cas,
                 bs::ByteStream::Stub* stub, const Digest& digest,
                 const GrpcCacheOptions& options)
      : cas_(cas), digest_(digest), options_(options) {
    if (digest.size() <= kSmallBlobBytes) return;
    absl::BitGen gen;
    resource_ = absl::StrFormat(
        "%suploads/%016x%016x/blobs/%s/%d",
        ResourcePrefix(options.instance_name), absl::Uniform<uint64_t>(gen),
        absl::Uniform<uint64_t>(gen), digest.hash(), digest.size());
    SetDeadline(&ctx_, options.stream_timeout);
    stream_ = stub->Write(&ctx_, &response_);
  }

  ~GrpcBlobWriter() override {
    if (stream_ != nullptr && !finished_) {
      // Abandoned: the server must not commit a partial upload.
      ctx_.TryCancel();
      stream_->Finish().ok();
    }
  }

  absl::Status Append(absl::string_view data) override {
    if (broken_) return absl::FailedPreconditionError("the writer failed");
    if (written_ + static_cast<int64_t>(data.size()) > digest_.size()) {
      broken_ = true;
      return absl::InvalidArgumentError(
          absl::StrCat("blob ", digest_.ToString(), ": more than ",
                       digest_.size(), " bytes written"));
    }
    sha_.Update(data);
    written_ += data.size();
    buffer_.append(data.data(), data.size());
    while (stream_ != nullptr &&
           static_cast<int64_t>(buffer_.size()) >= options_.chunk_size) {
      RETURN_IF_ERROR(Send(buffer_.substr(0, options_.chunk_size), false));
      buffer_.erase(0, options_.chunk_size);
    }
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (broken_) return absl::FailedPreconditionError("the writer failed");
    if (written_ != digest_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("blob ", digest_.ToString(), ": received ", written_,
                       " of ", digest_.size(), " bytes"));
    }
    if (sha_.FinishHex() != digest_.hash()) {
      broken_ = true;
      return absl::InvalidArgumentError(absl::StrCat(
          "blob ", digest_.ToString(), ": content does not match the hash"));
    }
    if (stream_ == nullptr) return CommitBatch();
    RETURN_IF_ERROR(Send(buffer_, true));
    buffer_.clear();
    if (!server_closed_) stream_->WritesDone();
    grpc::Status s = stream_->Finish();
    finished_ = true;
    if (!s.ok()) return Remote(s, "ByteStream.Write");
    if (response_.committed_size() != digest_.size()) {
      return absl::DataLossError(absl::StrCat(
          "ByteStream.Write of ", digest_.ToString(), ": server committed ",
          response_.committed_size(), " bytes"));
    }
    return absl::OkStatus();
  }

  int64_t bytes_written() const override { return written_; }

 private:
  absl::Status Send(const std::string& data, bool finish) {
    // The server ends the stream early when the blob already exists: the
    // rest is not needed, Finish() reports the committed size.
    if (server_closed_) return absl::OkStatus();
    bs::WriteRequest req;
    if (sent_ == 0) req.set_resource_name(resource_);
    req.set_write_offset(sent_);
    req.set_data(data);
    req.set_finish_write(finish);
    if (!stream_->Write(req)) {
      server_closed_ = true;
      return absl::OkStatus();
    }
    sent_ += data.size();
    return absl::OkStatus();
  }

  absl::Status CommitBatch() {
    finished_ = true;
    re::BatchUpdateBlobsRequest req;
    req.set_instance_name(options_.instance_name);
    re::BatchUpdateBlobsRequest::Request* r = req.add_requests();
    *r->mutable_digest() = digest_.ToProto();
    r->set_data(std::move(buffer_));
    buffer_.clear();
    re::BatchUpdateBlobsResponse resp;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, options_.call_timeout);
    grpc::Status s = cas_->BatchUpdateBlobs(&ctx, req, &resp);
    return OneBlobStatus(s, resp.responses_size(),
                         resp.responses_size() == 1 ? resp.responses(0).status()
                                                    : google::rpc::Status(),
                         "BatchUpdateBlobs", digest_);
  }

  re::ContentAddressableStorage::Stub* cas_;
  Digest digest_;
  GrpcCacheOptions options_;
  std::string resource_;
  grpc::ClientContext ctx_;
  bs::WriteResponse response_;
  std::unique_ptr<grpc::ClientWriter<bs::WriteRequest>> stream_;
  common::Sha256 sha_;
  std::string buffer_;
  int64_t written_ = 0;
  int64_t sent_ = 0;
  bool server_closed_ = false;
  bool finished_ = false;
  bool broken_ = false;
};

}  // namespace

GrpcBlobStore::GrpcBlobStore(std::shared_ptr<grpc::Channel> channel,
                             const GrpcCacheOptions& options)
    : cas_(re::ContentAddressableStorage::NewStub(channel)),
      bytestream_(bs::ByteStream::NewStub(channel)),
      options_(options) {}

absl::StatusOr<std::vector<Digest>> GrpcBlobStore::FindMissing(
    absl::Span<const Digest> digests) {
  // Linear in the digests: each asked once, answers matched by hash set.
  absl::flat_hash_set<Digest> missing;
  std::vector<Digest> ask;
  absl::flat_hash_set<Digest> asked;
  for (const Digest& d : digests) {
    if (d.size() == 0) continue;  // the empty blob is always present
    if (asked.insert(d).second) ask.push_back(d);
  }
  for (size_t start = 0; start < ask.size(); start += kMaxDigestsPerRequest) {
    re::FindMissingBlobsRequest req;
    req.set_instance_name(options_.instance_name);
    size_t end = std::min(ask.size(), start + kMaxDigestsPerRequest);
    for (size_t i = start; i < end; ++i)
      *req.add_blob_digests() = ask[i].ToProto();
    re::FindMissingBlobsResponse resp;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, options_.call_timeout);
    grpc::Status s = cas_->FindMissingBlobs(&ctx, req, &resp);
    if (!s.ok()) return Remote(s, "FindMissingBlobs");
    for (const auto& m : resp.missing_blob_digests()) {
      absl::StatusOr<Digest> d = Digest::FromProto(m);
      if (!d.ok()) return d.status();
      missing.insert(*d);
    }
  }
  // In input order, as the contract says (a digest the server names that
  // was not asked is ignored).
  std::vector<Digest> ordered;
  for (const Digest& d : ask) {
    if (missing.contains(d)) ordered.push_back(d);
  }
  return ordered;
}

absl::StatusOr<std::unique_ptr<BlobReader>> GrpcBlobStore::OpenRead(
    const Digest& digest, int64_t offset, int64_t limit) {
  if (offset < 0 || limit < 0)
    return absl::InvalidArgumentError("negative offset or limit");
  if (digest.size() == 0) {
    if (offset > 0) return absl::OutOfRangeError("offset past the end");
    return std::unique_ptr<BlobReader>(new EmptyReader());
  }
  if (offset == 0 && limit == 0 && digest.size() <= kSmallBlobBytes) {
    re::BatchReadBlobsRequest batch;
    batch.set_instance_name(options_.instance_name);
    *batch.add_digests() = digest.ToProto();
    re::BatchReadBlobsResponse resp;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, options_.call_timeout);
    grpc::Status s = cas_->BatchReadBlobs(&ctx, batch, &resp);
    RETURN_IF_ERROR(OneBlobStatus(s, resp.responses_size(),
                                  resp.responses_size() == 1
                                      ? resp.responses(0).status()
                                      : google::rpc::Status(),
                                  "BatchReadBlobs", digest));
    re::BatchReadBlobsResponse::Response* r = resp.mutable_responses(0);
    if (static_cast<int64_t>(r->data().size()) != digest.size()) {
      return absl::DataLossError(absl::StrCat("BatchReadBlobs of ",
                                              digest.ToString(), ": ",
                                              r->data().size(), " bytes came"));
    }
    return std::unique_ptr<BlobReader>(
        new WholeBlobReader(std::move(*r->mutable_data())));
  }
  bs::ReadRequest req;
  req.set_resource_name(absl::StrCat(ResourcePrefix(options_.instance_name),
                                     "blobs/", digest.hash(), "/",
                                     digest.size()));
  req.set_read_offset(offset);
  req.set_read_limit(limit);
  auto ctx = std::make_unique<grpc::ClientContext>();
  SetDeadline(ctx.get(), options_.stream_timeout);
  std::unique_ptr<grpc::ClientReader<bs::ReadResponse>> reader =
      bytestream_->Read(ctx.get(), req);
  // The first message (or the error) decides NOT_FOUND / OUT_OF_RANGE here.
  bs::ReadResponse first;
  bool more = reader->Read(&first);
  if (!more) {
    grpc::Status s = reader->Finish();
    if (!s.ok()) return Remote(s, "ByteStream.Read");
    return std::unique_ptr<BlobReader>(new EmptyReader());
  }
  return std::unique_ptr<BlobReader>(
      new GrpcBlobReader(std::move(ctx), std::move(reader),
                         std::move(*first.mutable_data()), true));
}

absl::StatusOr<std::unique_ptr<BlobWriter>> GrpcBlobStore::OpenWrite(
    const Digest& digest) {
  return std::unique_ptr<BlobWriter>(
      new GrpcBlobWriter(cas_.get(), bytestream_.get(), digest, options_));
}

absl::Status GrpcBlobStore::WriteBlobs(absl::Span<const BlobBytes> blobs) {
  constexpr int64_t kMaxBatchBytes = 2 << 20;
  re::BatchUpdateBlobsRequest req;
  std::vector<Digest> sent;  // in `req`
  int64_t batch_bytes = 0;
  auto send = [&]() -> absl::Status {
    if (sent.empty()) return absl::OkStatus();
    re::BatchUpdateBlobsResponse resp;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, options_.call_timeout);
    grpc::Status s = cas_->BatchUpdateBlobs(&ctx, req, &resp);
    if (!s.ok()) return Remote(s, "BatchUpdateBlobs");
    // Answers name their blobs (in any order); each must be OK.
    absl::flat_hash_set<Digest> answered;
    for (const auto& r : resp.responses()) {
      absl::StatusOr<Digest> d = Digest::FromProto(r.digest());
      if (!d.ok())
        return common::Annotate(d.status(), "BatchUpdateBlobs answer");
      RETURN_IF_ERROR(OneBlobStatus(s, 1, r.status(), "BatchUpdateBlobs", *d));
      answered.insert(*d);
    }
    for (const Digest& d : sent) {
      if (!answered.contains(d)) {
        return absl::DataLossError(absl::StrCat(
            "BatchUpdateBlobs of ", d.ToString(), ": no answer for it"));
      }
    }
    req.clear_requests();
    sent.clear();
    batch_bytes = 0;
    return absl::OkStatus();
  };
  req.set_instance_name(options_.instance_name);
  for (const BlobBytes& b : blobs) {
    if (b.digest.size() == 0) continue;  // the empty blob is always there
    if (b.digest.size() > kSmallBlobBytes) {
      RETURN_IF_ERROR(WriteBlob(*this, b.digest, b.bytes));
      continue;
    }
    if (batch_bytes + b.digest.size() > kMaxBatchBytes) RETURN_IF_ERROR(send());
    re::BatchUpdateBlobsRequest::Request* r = req.add_requests();
    *r->mutable_digest() = b.digest.ToProto();
    r->set_data(b.bytes.data(), b.bytes.size());
    sent.push_back(b.digest);
    batch_bytes += b.digest.size();
  }
  return send();
}

absl::Status GrpcBlobStore::Delete(const Digest& digest) {
  return absl::UnimplementedError(absl::StrCat("a remote cache cannot delete ",
                                               digest.ToString(),
                                               " (REAPI has no delete)"));
}

GrpcActionCache::GrpcActionCache(std::shared_ptr<grpc::Channel> channel,
                                 const GrpcCacheOptions& options)
    : ac_(re::ActionCache::NewStub(channel)), options_(options) {}

absl::StatusOr<ActionResult> GrpcActionCache::Get(
    const common::Digest& action) {
  re::GetActionResultRequest req;
  req.set_instance_name(options_.instance_name);
  *req.mutable_action_digest() = action.ToProto();
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.call_timeout);
  ActionResult result;
  grpc::Status s = ac_->GetActionResult(&ctx, req, &result);
  if (!s.ok()) return Remote(s, "GetActionResult");
  return result;
}

absl::Status GrpcActionCache::Update(const common::Digest& action,
                                     const ActionResult& result) {
  re::UpdateActionResultRequest req;
  req.set_instance_name(options_.instance_name);
  *req.mutable_action_digest() = action.ToProto();
  *req.mutable_action_result() = result;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.call_timeout);
  ActionResult stored;
  return Remote(ac_->UpdateActionResult(&ctx, req, &stored),
                "UpdateActionResult");
}

absl::Status GrpcActionCache::Remove(const common::Digest& action) {
  return absl::UnimplementedError(
      absl::StrCat("a remote Action Cache cannot remove ", action.ToString()));
}

}  // namespace pbrx::cache
