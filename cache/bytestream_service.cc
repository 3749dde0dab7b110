#include "cache/bytestream_service.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "cache/resource_name.h"
#include "common/authorizer.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace pbrx::cache {

using google::bytestream::QueryWriteStatusRequest;
using google::bytestream::QueryWriteStatusResponse;
using google::bytestream::ReadRequest;
using google::bytestream::ReadResponse;
using google::bytestream::WriteRequest;
using google::bytestream::WriteResponse;

grpc::Status ByteStreamService::Read(grpc::ServerContext* context,
                                     const ReadRequest* request,
                                     grpc::ServerWriter<ReadResponse>* writer) {
  absl::Status status = DoRead(context, *request, writer);
  metrics_->RecordRequest("Read", status.code());
  return common::ToGrpcStatus(status);
}

absl::Status ByteStreamService::DoRead(
    grpc::ServerContext* context, const ReadRequest& request,
    grpc::ServerWriter<ReadResponse>* writer) {
  RETURN_IF_ERROR(common::Authorize(options_.authorizer, *context,
                                    common::Permission::kRead,
                                    "ByteStream.Read"));
  ASSIGN_OR_RETURN(common::StreamLimiter::Slot slot,
                   common::StreamLimiter::AcquireFrom(
                       options_.streams, context->peer(), "ByteStream.Read"));
  ASSIGN_OR_RETURN(ResourceName name,
                   ParseReadResourceName(request.resource_name()));
  if (request.read_offset() < 0) {
    return absl::OutOfRangeError(
        absl::StrCat("read_offset must be >= 0, got ", request.read_offset()));
  }
  if (request.read_limit() < 0) {
    return absl::OutOfRangeError(
        absl::StrCat("read_limit must be >= 0, got ", request.read_limit()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader,
                   store_->OpenRead(name.digest, request.read_offset(),
                                    request.read_limit()));
  ReadResponse response;
  while (true) {
    if (context->IsCancelled())
      return absl::CancelledError("client cancelled the read");
    ASSIGN_OR_RETURN(bool more, reader->Next(response.mutable_data()));
    if (!more) break;
    metrics_->AddBytesRead(static_cast<int64_t>(response.data().size()));
    if (!writer->Write(response))
      return absl::CancelledError("client went away during a read");
  }
  return absl::OkStatus();
}

grpc::Status ByteStreamService::Write(grpc::ServerContext* context,
                                      grpc::ServerReader<WriteRequest>* reader,
                                      WriteResponse* response) {
  absl::Status status = DoWrite(context, reader, response);
  metrics_->RecordRequest("Write", status.code());
  return common::ToGrpcStatus(status);
}

absl::StatusOr<std::shared_ptr<ByteStreamService::Upload>>
ByteStreamService::AcquireUpload(const std::string& host,
                                 const std::string& resource,
                                 const Digest& digest, int64_t write_offset) {
  absl::MutexLock lock(&mu_);
  auto it = uploads_.find(resource);
  if (it != uploads_.end()) {
    std::shared_ptr<Upload> upload = it->second;
    if (upload->busy) {
      return absl::AbortedError(absl::StrCat(
          "upload '", resource, "' is being written by another stream"));
    }
    if (write_offset != upload->writer->bytes_written()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "write_offset ", write_offset, " does not match the ",
          upload->writer->bytes_written(), " bytes committed for '", resource,
          "' (ask QueryWriteStatus)"));
    }
    upload->busy = true;
    return upload;
  }
  if (write_offset != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "write_offset ", write_offset, " for '", resource,
        "', but no bytes of this upload are held (start again at 0)"));
  }
  ExpireIdleLocked(host);
  ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer,
                   store_->OpenWrite(digest));
  auto upload = std::make_shared<Upload>();
  upload->writer = std::move(writer);
  upload->host = host;
  upload->busy = true;
  upload->last_used = clock_->Now();
  uploads_[resource] = upload;
  return upload;
}

void ByteStreamService::ReleaseUpload(const std::string& resource, bool keep) {
  std::shared_ptr<Upload> doomed;  // destroyed outside the lock
  absl::MutexLock lock(&mu_);
  auto it = uploads_.find(resource);
  if (it == uploads_.end()) return;
  if (keep) {
    it->second->busy = false;
    it->second->last_used = clock_->Now();
  } else {
    doomed = std::move(it->second);
    uploads_.erase(it);
  }
}

void ByteStreamService::ExpireIdleLocked(const std::string& host) {
  const absl::Time now = clock_->Now();
  struct Idle {
    int count = 0;
    std::string oldest;
    absl::Time oldest_time = absl::InfiniteFuture();
  };
  std::map<std::string, Idle> by_host;
  int idle = 0;
  for (auto it = uploads_.begin(); it != uploads_.end();) {
    const Upload& u = *it->second;
    if (!u.busy && now - u.last_used > options_.upload_idle_timeout) {
      uploads_.erase(it++);
      continue;
    }
    if (!u.busy) {
      ++idle;
      Idle& h = by_host[u.host];
      ++h.count;
      if (u.last_used < h.oldest_time) {
        h.oldest_time = u.last_used;
        h.oldest = it->first;
      }
    }
    ++it;
  }
  auto mine = by_host.find(host);
  if (mine != by_host.end() &&
      mine->second.count >= options_.max_idle_uploads_per_peer) {
    uploads_.erase(mine->second.oldest);
    return;
  }
  if (idle >= options_.max_idle_uploads && !by_host.empty()) {
    auto most = std::max_element(by_host.begin(), by_host.end(),
                                 [](const auto& a, const auto& b) {
                                   return a.second.count < b.second.count;
                                 });
    uploads_.erase(most->second.oldest);
  }
}

absl::Status ByteStreamService::DoWrite(
    grpc::ServerContext* context, grpc::ServerReader<WriteRequest>* reader,
    WriteResponse* response) {
  RETURN_IF_ERROR(common::Authorize(options_.authorizer, *context,
                                    common::Permission::kCasWrite,
                                    "ByteStream.Write"));
  ASSIGN_OR_RETURN(common::StreamLimiter::Slot slot,
                   common::StreamLimiter::AcquireFrom(
                       options_.streams, context->peer(), "ByteStream.Write"));
  WriteRequest request;
  if (!reader->Read(&request)) {
    return absl::InvalidArgumentError("write stream carried no request");
  }
  const std::string resource = request.resource_name();
  if (resource.empty()) {
    return absl::InvalidArgumentError(
        "the first write request must name the resource");
  }
  ASSIGN_OR_RETURN(ResourceName name, ParseWriteResourceName(resource));

  // Already stored: nothing to upload.
  ASSIGN_OR_RETURN(std::vector<Digest> missing,
                   store_->FindMissing({name.digest}));
  if (missing.empty()) {
    ReleaseUpload(resource, /*keep=*/false);
    response->set_committed_size(name.digest.size());
    return absl::OkStatus();
  }

  ASSIGN_OR_RETURN(std::shared_ptr<Upload> upload,
                   AcquireUpload(common::PeerHost(context->peer()), resource,
                                 name.digest, request.write_offset()));
  BlobWriter& writer = *upload->writer;
  while (true) {
    if (!request.resource_name().empty() &&
        request.resource_name() != resource) {
      ReleaseUpload(resource, /*keep=*/false);
      return absl::InvalidArgumentError(
          absl::StrCat("resource_name changed within one write stream: '",
                       request.resource_name(), "'"));
    }
    if (request.write_offset() != writer.bytes_written()) {
      ReleaseUpload(resource, /*keep=*/false);
      return absl::InvalidArgumentError(
          absl::StrCat("write_offset ", request.write_offset(), " but ",
                       writer.bytes_written(), " bytes were written so far"));
    }
    absl::Status s = writer.Append(request.data());
    if (!s.ok()) {
      ReleaseUpload(resource, /*keep=*/false);
      return s;
    }
    upload->committed = writer.bytes_written();
    if (request.finish_write()) {
      s = writer.Commit();
      ReleaseUpload(resource, /*keep=*/false);
      if (!s.ok()) return s;
      metrics_->AddBytesWritten(name.digest.size());
      response->set_committed_size(name.digest.size());
      return absl::OkStatus();
    }
    if (!reader->Read(&request)) break;
  }
  // The stream ended without finish_write: keep what arrived for a resume.
  int64_t held = writer.bytes_written();
  ReleaseUpload(resource, /*keep=*/true);
  if (context->IsCancelled())
    return absl::CancelledError("client cancelled the write");
  return absl::InvalidArgumentError(absl::StrCat(
      "write stream for '", resource, "' ended without finish_write after ",
      held, " bytes; resume at that offset"));
}

grpc::Status ByteStreamService::QueryWriteStatus(
    grpc::ServerContext* context, const QueryWriteStatusRequest* request,
    QueryWriteStatusResponse* response) {
  auto run = [&]() -> absl::Status {
    RETURN_IF_ERROR(common::Authorize(options_.authorizer, *context,
                                      common::Permission::kCasWrite,
                                      "ByteStream.QueryWriteStatus"));
    ASSIGN_OR_RETURN(ResourceName name,
                     ParseWriteResourceName(request->resource_name()));
    ASSIGN_OR_RETURN(std::vector<Digest> missing,
                     store_->FindMissing({name.digest}));
    if (missing.empty()) {
      response->set_committed_size(name.digest.size());
      response->set_complete(true);
      return absl::OkStatus();
    }
    absl::MutexLock lock(&mu_);
    auto it = uploads_.find(request->resource_name());
    if (it == uploads_.end()) {
      return absl::NotFoundError(absl::StrCat(
          "no upload '", request->resource_name(), "' in progress"));
    }
    response->set_committed_size(it->second->committed);
    response->set_complete(false);
    return absl::OkStatus();
  };
  absl::Status status = run();
  metrics_->RecordRequest("QueryWriteStatus", status.code());
  return common::ToGrpcStatus(status);
}

int ByteStreamService::open_uploads() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(uploads_.size());
}

}  // namespace pbrx::cache
