#include "coordinator/execution_service.h"

#include "absl/strings/str_cat.h"
#include "cache/resource_name.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "coordinator/farm_executor.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
namespace lr = google::longrunning;
using common::Digest;

lr::Operation Metadata(const std::string& name, const Digest& action,
                       Stage stage) {
  lr::Operation op;
  op.set_name(name);
  re::ExecuteOperationMetadata md;
  md.set_stage(stage == Stage::kQueued      ? re::ExecutionStage::QUEUED
               : stage == Stage::kExecuting ? re::ExecutionStage::EXECUTING
                                            : re::ExecutionStage::COMPLETED);
  *md.mutable_action_digest() = action.ToProto();
  op.mutable_metadata()->PackFrom(md);
  return op;
}

lr::Operation Done(const std::string& name, const Digest& action,
                   const absl::StatusOr<common::ActionOutcome>& outcome) {
  lr::Operation op = Metadata(name, action, Stage::kCompleted);
  op.set_done(true);
  re::ExecuteResponse resp;
  if (outcome.ok()) {
    *resp.mutable_result() = outcome->result;
    resp.set_cached_result(outcome->cached);
    *resp.mutable_status() = common::ToRpcStatus(outcome->status);
  } else {
    *resp.mutable_status() = common::ToRpcStatus(outcome.status());
  }
  op.mutable_response()->PackFrom(resp);
  return op;
}

// The fairness group of a REAPI client: its build (Bazel's invocation id in
// the request metadata), else its connection.
std::string GroupOf(grpc::ServerContext* context) {
  auto md = context->client_metadata().find(
      "build.bazel.remote.execution.v2.requestmetadata-bin");
  if (md != context->client_metadata().end()) {
    re::RequestMetadata rm;
    if (rm.ParseFromArray(md->second.data(), md->second.size()) &&
        !rm.tool_invocation_id().empty()) {
      return "reapi:" + rm.tool_invocation_id();
    }
  }
  return "reapi:" + context->peer();
}

}  // namespace

grpc::Status ExecutionService::Execute(grpc::ServerContext* context,
                                       const re::ExecuteRequest* request,
                                       grpc::ServerWriter<lr::Operation>* w) {
  if (absl::Status denied =
          common::Authorize(authorizer_, *context, common::Permission::kExecute,
                            "Execution.Execute", request->instance_name());
      !denied.ok()) {
    return common::ToGrpcStatus(denied);
  }
  absl::StatusOr<common::StreamLimiter::Slot> slot =
      common::StreamLimiter::AcquireFrom(streams_, context->peer(),
                                         "Execution.Execute");
  if (!slot.ok()) return common::ToGrpcStatus(slot.status());
  if (absl::Status s = cache::ValidateInstanceName(request->instance_name());
      !s.ok()) {
    return common::ToGrpcStatus(s);
  }
  absl::StatusOr<Digest> action = Digest::FromProto(request->action_digest());
  if (!action.ok()) {
    return common::ToGrpcStatus(
        common::Annotate(action.status(), "action_digest"));
  }
  if (!request->skip_cache_lookup()) {
    absl::StatusOr<re::ActionResult> hit = ac_->Get(*action);
    if (hit.ok()) {
      metrics_->CacheHit("", ResultBytes(*hit));
      w->Write(Done(absl::StrCat("operations/cached-", action->hash()), *action,
                    CachedOutcome(*hit)));
      return grpc::Status::OK;
    }
    if (hit.status().code() != absl::StatusCode::kNotFound)
      return common::ToGrpcStatus(hit.status());
  }
  absl::StatusOr<AdmittedAction> admitted = AdmitAction(*cas_, *action);
  if (!admitted.ok()) return common::ToGrpcStatus(admitted.status());
  SubmitOptions submit = admitted->submit;
  submit.group = GroupOf(context);
  submit.skip_cache_lookup = request->skip_cache_lookup();
  Scheduler::Submitted s = scheduler_->Submit(*action, submit);
  grpc::Status status = Follow(context, s.op, w);
  scheduler_->Release(s.op);
  if (s.joined && s.op->stage() == Stage::kCompleted) {
    absl::StatusOr<common::ActionOutcome> out = s.op->outcome();
    if (out.ok()) metrics_->AddDeduplicatedBytes(ResultBytes(out->result));
  }
  return status;
}

grpc::Status ExecutionService::WaitExecution(
    grpc::ServerContext* context, const re::WaitExecutionRequest* request,
    grpc::ServerWriter<lr::Operation>* w) {
  if (absl::Status denied =
          common::Authorize(authorizer_, *context, common::Permission::kExecute,
                            "Execution.WaitExecution");
      !denied.ok()) {
    return common::ToGrpcStatus(denied);
  }
  absl::StatusOr<common::StreamLimiter::Slot> slot =
      common::StreamLimiter::AcquireFrom(streams_, context->peer(),
                                         "Execution.WaitExecution");
  if (!slot.ok()) return common::ToGrpcStatus(slot.status());
  std::shared_ptr<Operation> op = scheduler_->Find(request->name());
  if (op == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("no operation ", request->name()));
  }
  return Follow(context, op, w);
}

grpc::Status ExecutionService::Follow(grpc::ServerContext* context,
                                      const std::shared_ptr<Operation>& op,
                                      grpc::ServerWriter<lr::Operation>* w) {
  Stage stage = op->stage();
  if (stage != Stage::kCompleted &&
      !w->Write(Metadata(op->name(), op->action(), stage))) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  }
  while (stage != Stage::kCompleted) {
    // Wake up at least every second to notice a client that went away.
    absl::Time until = absl::Now() + std::min(keepalive_, absl::Seconds(1));
    absl::Time keepalive_at = absl::Now() + keepalive_;
    Stage now = stage;
    while (now == stage && absl::Now() < keepalive_at) {
      now = op->WaitForChange(stage, until);
      if (context->IsCancelled()) {
        return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
      }
      until = absl::Now() + absl::Seconds(1);
    }
    stage = now;
    if (stage == Stage::kCompleted) break;
    if (!w->Write(Metadata(op->name(), op->action(), stage))) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
  }
  w->Write(Done(op->name(), op->action(), op->outcome()));
  return grpc::Status::OK;
}

}  // namespace pbrx::coordinator
