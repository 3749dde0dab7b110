#include "cache/cas_service.h"

#include <deque>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cache/directory_tree.h"
#include "cache/resource_name.h"
#include "common/authorizer.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "google/rpc/code.pb.h"

namespace pbrx::cache {

namespace re = build::bazel::remote::execution::v2;

namespace {

void SetRpcStatus(const absl::Status& status, google::rpc::Status* out) {
  out->set_code(static_cast<int>(status.code()));
  out->set_message(std::string(status.message()));
}

absl::StatusOr<Digest> ParseDigestAt(const re::Digest& proto,
                                     absl::string_view field, int index) {
  absl::StatusOr<Digest> d = Digest::FromProto(proto);
  if (!d.ok())
    return common::Annotate(d.status(), absl::StrCat(field, "[", index, "]"));
  return d;
}

}  // namespace

grpc::Status CasService::Finish(absl::string_view method,
                                const absl::Status& status) {
  metrics_->RecordRequest(method, status.code());
  return common::ToGrpcStatus(status);
}

grpc::Status CasService::ServeFindMissingBlobs(
    const grpc::ServerContextBase& context,
    const re::FindMissingBlobsRequest& request,
    re::FindMissingBlobsResponse* response) {
  auto run = [&]() -> absl::Status {
    RETURN_IF_ERROR(common::Authorize(
        options_.authorizer, context, common::Permission::kRead,
        "ContentAddressableStorage.FindMissingBlobs"));
    RETURN_IF_ERROR(ValidateInstanceName(request.instance_name()));
    std::vector<Digest> digests;
    digests.reserve(request.blob_digests_size());
    for (int i = 0; i < request.blob_digests_size(); ++i) {
      ASSIGN_OR_RETURN(
          Digest d, ParseDigestAt(request.blob_digests(i), "blob_digests", i));
      digests.push_back(d);
    }
    ASSIGN_OR_RETURN(std::vector<Digest> missing, store_->FindMissing(digests));
    for (const Digest& d : missing)
      *response->add_missing_blob_digests() = d.ToProto();
    return absl::OkStatus();
  };
  return Finish("FindMissingBlobs", run());
}

grpc::Status CasService::ServeBatchUpdateBlobs(
    const grpc::ServerContextBase& context,
    const re::BatchUpdateBlobsRequest& request,
    re::BatchUpdateBlobsResponse* response) {
  auto run = [&]() -> absl::Status {
    RETURN_IF_ERROR(common::Authorize(
        options_.authorizer, context, common::Permission::kCasWrite,
        "ContentAddressableStorage.BatchUpdateBlobs"));
    RETURN_IF_ERROR(ValidateInstanceName(request.instance_name()));
    int64_t total = 0;
    for (const auto& r : request.requests())
      total += static_cast<int64_t>(r.data().size());
    if (total > options_.max_batch_total_size_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "batch of ", total, " bytes exceeds max_batch_total_size_bytes ",
          options_.max_batch_total_size_bytes,
          "; use ByteStream for large blobs"));
    }
    // Blobs already stored are not written again (as ByteStream.Write ends
    // at once for them): one FindMissing for the whole batch.
    std::vector<absl::StatusOr<Digest>> digests;
    std::vector<Digest> valid;
    for (int i = 0; i < request.requests_size(); ++i) {
      digests.push_back(
          ParseDigestAt(request.requests(i).digest(), "requests", i));
      if (digests.back().ok()) valid.push_back(*digests.back());
    }
    ASSIGN_OR_RETURN(std::vector<Digest> missing_list,
                     store_->FindMissing(valid));
    const absl::flat_hash_set<Digest> missing(missing_list.begin(),
                                              missing_list.end());
    // The missing ones go to the store in one WriteBlobs (a remote store:
    // one call); should that fail, each is written alone for its status.
    std::vector<BlobBytes> writes;
    std::vector<int> write_index;
    for (int i = 0; i < request.requests_size(); ++i) {
      const auto& r = request.requests(i);
      auto* out = response->add_responses();
      *out->mutable_digest() = r.digest();
      const absl::StatusOr<Digest>& d = digests[i];
      absl::Status s = d.status();
      // The size is checked before a writer (and its space reservation)
      // exists: a small request never claims a large digest's space.
      if (s.ok() && static_cast<int64_t>(r.data().size()) != d->size()) {
        s = absl::InvalidArgumentError(
            absl::StrCat("requests[", i, "]: ", r.data().size(),
                         " bytes of data for a digest of ", d->size()));
      }
      if (s.ok() && missing.contains(*d)) {
        writes.push_back({*d, r.data()});
        write_index.push_back(i);
        continue;
      }
      SetRpcStatus(s, out->mutable_status());
    }
    const absl::Status all =
        writes.empty() ? absl::OkStatus() : store_->WriteBlobs(writes);
    for (size_t k = 0; k < writes.size(); ++k) {
      absl::Status s =
          all.ok() ? all
                   : WriteBlob(*store_, writes[k].digest, writes[k].bytes);
      if (s.ok()) metrics_->AddBytesWritten(writes[k].digest.size());
      SetRpcStatus(
          s, response->mutable_responses(write_index[k])->mutable_status());
    }
    return absl::OkStatus();
  };
  return Finish("BatchUpdateBlobs", run());
}

grpc::Status CasService::ServeBatchReadBlobs(
    const grpc::ServerContextBase& context,
    const re::BatchReadBlobsRequest& request,
    re::BatchReadBlobsResponse* response) {
  auto run = [&]() -> absl::Status {
    RETURN_IF_ERROR(common::Authorize(
        options_.authorizer, context, common::Permission::kRead,
        "ContentAddressableStorage.BatchReadBlobs"));
    RETURN_IF_ERROR(ValidateInstanceName(request.instance_name()));
    std::vector<Digest> digests;
    int64_t total = 0;
    for (int i = 0; i < request.digests_size(); ++i) {
      ASSIGN_OR_RETURN(Digest d,
                       ParseDigestAt(request.digests(i), "digests", i));
      // Summed without overflow: a size beyond the limit ends the sum.
      total += std::min(d.size(), options_.max_batch_total_size_bytes + 1);
      if (total > options_.max_batch_total_size_bytes) break;
      digests.push_back(d);
    }
    if (total > options_.max_batch_total_size_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("requested blobs total ", total,
                       " bytes, more than max_batch_total_size_bytes ",
                       options_.max_batch_total_size_bytes,
                       "; use ByteStream for large blobs"));
    }
    for (const Digest& d : digests) {
      auto* out = response->add_responses();
      *out->mutable_digest() = d.ToProto();
      absl::StatusOr<std::string> data = ReadBlob(*store_, d);
      if (data.ok()) {
        metrics_->AddBytesRead(d.size());
        *out->mutable_data() = std::move(*data);
      }
      SetRpcStatus(data.status(), out->mutable_status());
    }
    return absl::OkStatus();
  };
  return Finish("BatchReadBlobs", run());
}

grpc::Status CasService::GetTree(
    grpc::ServerContext* context, const re::GetTreeRequest* request,
    grpc::ServerWriter<re::GetTreeResponse>* writer) {
  auto run = [&]() -> absl::Status {
    RETURN_IF_ERROR(common::Authorize(options_.authorizer, *context,
                                      common::Permission::kRead,
                                      "ContentAddressableStorage.GetTree"));
    RETURN_IF_ERROR(ValidateInstanceName(request->instance_name()));
    absl::StatusOr<Digest> root = Digest::FromProto(request->root_digest());
    if (!root.ok()) return common::Annotate(root.status(), "root_digest");
    if (request->page_size() < 0) {
      return absl::InvalidArgumentError("page_size must be >= 0");
    }
    int64_t skip = 0;
    if (!request->page_token().empty() &&
        (!absl::SimpleAtoi(request->page_token(), &skip) || skip < 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_token '", request->page_token(),
                       "' was not issued by this server"));
    }
    size_t page_size =
        request->page_size() > 0
            ? static_cast<size_t>(request->page_size())
            : static_cast<size_t>(options_.default_tree_page_size);
    // Breadth-first over the directories, each listed once. Missing
    // subdirectories are omitted, as the REAPI allows; a missing root is
    // NOT_FOUND.
    std::deque<Digest> queue{*root};
    absl::flat_hash_set<Digest> seen{*root};
    int64_t index = 0;
    int64_t walked = 0;
    re::GetTreeResponse page;
    bool first = true;
    while (!queue.empty()) {
      if (context->IsCancelled())
        return absl::CancelledError("client cancelled GetTree");
      Digest d = queue.front();
      queue.pop_front();
      RETURN_IF_ERROR(CheckMessageBlobSize(d, "directory"));
      absl::StatusOr<std::string> bytes = ReadBlob(*store_, d);
      if (!bytes.ok()) {
        if (first) return common::Annotate(bytes.status(), "root directory");
        continue;
      }
      first = false;
      re::Directory dir;
      if (!dir.ParseFromString(*bytes)) {
        return absl::InvalidArgumentError(
            absl::StrCat("blob ", d.ToString(), " is not a Directory"));
      }
      for (const auto& child : dir.directories()) {
        absl::StatusOr<Digest> cd = Digest::FromProto(child.digest());
        if (!cd.ok()) {
          return common::Annotate(cd.status(),
                                  absl::StrCat("directory ", child.name()));
        }
        if (seen.insert(*cd).second) queue.push_back(*cd);
      }
      if (++walked > options_.max_tree_directories) {
        return absl::FailedPreconditionError(
            absl::StrCat("the tree rooted at ", root->ToString(),
                         " has more than ", options_.max_tree_directories,
                         " directories (--max-tree-directories)"));
      }
      if (index++ < skip) continue;
      // A page ends before it would pass kMaxTreePageBytes.
      if (page.directories_size() > 0 &&
          static_cast<int64_t>(page.ByteSizeLong() + bytes->size()) >
              kMaxTreePageBytes) {
        page.set_next_page_token(absl::StrCat(index - 1));
        if (!writer->Write(page))
          return absl::CancelledError("client went away");
        page.Clear();
      }
      *page.add_directories() = std::move(dir);
      if (static_cast<size_t>(page.directories_size()) >= page_size &&
          !queue.empty()) {
        page.set_next_page_token(absl::StrCat(index));
        if (!writer->Write(page))
          return absl::CancelledError("client went away");
        page.Clear();
      }
    }
    if (page.directories_size() > 0 || index <= skip) writer->Write(page);
    return absl::OkStatus();
  };
  return Finish("GetTree", run());
}

}  // namespace pbrx::cache
