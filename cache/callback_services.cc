#include "cache/callback_services.h"

namespace pbrx::cache {

namespace re = build::bazel::remote::execution::v2;

namespace {

// Answers the call with `status` (the response is already filled).
grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context,
                                 const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* CallbackCasService::FindMissingBlobs(
    grpc::CallbackServerContext* context,
    const re::FindMissingBlobsRequest* request,
    re::FindMissingBlobsResponse* response) {
  return Answer(context,
                cas_->ServeFindMissingBlobs(*context, *request, response));
}

grpc::ServerUnaryReactor* CallbackCasService::BatchUpdateBlobs(
    grpc::CallbackServerContext* context,
    const re::BatchUpdateBlobsRequest* request,
    re::BatchUpdateBlobsResponse* response) {
  return Answer(context,
                cas_->ServeBatchUpdateBlobs(*context, *request, response));
}

grpc::ServerUnaryReactor* CallbackCasService::BatchReadBlobs(
    grpc::CallbackServerContext* context,
    const re::BatchReadBlobsRequest* request,
    re::BatchReadBlobsResponse* response) {
  return Answer(context,
                cas_->ServeBatchReadBlobs(*context, *request, response));
}

grpc::Status CallbackCasService::GetTree(
    grpc::ServerContext* context, const re::GetTreeRequest* request,
    grpc::ServerWriter<re::GetTreeResponse>* writer) {
  return cas_->GetTree(context, request, writer);
}

grpc::ServerUnaryReactor* CallbackActionCacheService::GetActionResult(
    grpc::CallbackServerContext* context,
    const re::GetActionResultRequest* request, re::ActionResult* response) {
  return Answer(context,
                ac_->ServeGetActionResult(*context, *request, response));
}

grpc::ServerUnaryReactor* CallbackActionCacheService::UpdateActionResult(
    grpc::CallbackServerContext* context,
    const re::UpdateActionResultRequest* request, re::ActionResult* response) {
  return Answer(context,
                ac_->ServeUpdateActionResult(*context, *request, response));
}

}  // namespace pbrx::cache
