#include "coordinator/worker_service.h"

#include <deque>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cache/completeness_checking_action_cache.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
namespace fv = pbrx::farm::v1;
using common::Digest;

// Executor faults worth another executor's try; the rest are the action's
// own errors (bad action, missing inputs, cancelled).
bool Retryable(absl::StatusCode code) {
  return code != absl::StatusCode::kInvalidArgument &&
         code != absl::StatusCode::kFailedPrecondition &&
         code != absl::StatusCode::kCancelled;
}

}  // namespace

void WorkerService::HandleCompletion(const std::string& worker_id,
                                     const std::string& worker_name,
                                     const fv::Completion& c) {
  std::optional<LeasedActionInfo> leased =
      scheduler_->LeasedAction(worker_id, c.lease_id());
  if (!leased.has_value()) {
    common::LogWarning("worker ", worker_name, ": result for lease ",
                       absl::CHexEscape(c.lease_id().substr(0, 64)),
                       ", which it does not hold, ignored");
    return;
  }
  absl::Status status = common::FromRpcStatus(c.status());
  auto complete = [&](absl::StatusOr<common::ActionOutcome> outcome,
                      bool retryable) {
    absl::Status s = scheduler_->Complete(worker_id, c.lease_id(),
                                          std::move(outcome), retryable);
    if (!s.ok()) common::LogInfo("worker ", worker_name, ": ", s.message());
  };
  if (!c.has_result()) {
    // The executor could not run the action at all.
    if (status.ok()) status = absl::InternalError("completion without result");
    complete(common::Annotate(status, absl::StrCat("executor ", worker_name)),
             Retryable(status.code()));
    return;
  }
  // Never trust a result naming blobs that are not in the CAS.
  absl::StatusOr<std::vector<Digest>> referenced =
      cache::ReferencedBlobs(c.result(), *cas_);
  absl::StatusOr<std::vector<Digest>> missing =
      referenced.ok()
          ? cas_->FindMissing(*referenced)
          : absl::StatusOr<std::vector<Digest>>(referenced.status());
  if (!missing.ok() || !missing->empty()) {
    std::string what = !missing.ok()
                           ? std::string(missing.status().message())
                           : absl::StrCat(missing->size(), " blob(s) such as ",
                                          missing->front().ToString());
    complete(absl::DataLossError(absl::StrCat(
                 "executor ", worker_name,
                 " reported outputs that are not in the CAS: ", what)),
             true);
    return;
  }
  common::ActionOutcome outcome;
  outcome.result = c.result();
  outcome.status = status;
  if (status.ok() && c.result().exit_code() == 0 && !leased->do_not_cache) {
    absl::Status u = ac_->Update(leased->action, c.result());
    if (!u.ok()) {
      complete(common::Annotate(u, "recording the result"), true);
      return;
    }
  }
  complete(outcome, false);
}

grpc::Status WorkerService::Work(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<fv::CoordinatorMessage, fv::WorkerMessage>*
        stream) {
  if (absl::Status denied = common::Authorize(
          authorizer_, *context, common::Permission::kWork, "Worker.Work");
      !denied.ok()) {
    return common::ToGrpcStatus(denied);
  }
  absl::StatusOr<common::StreamLimiter::Slot> slot =
      common::StreamLimiter::AcquireFrom(streams_, context->peer(),
                                         "Worker.Work");
  if (!slot.ok()) return common::ToGrpcStatus(slot.status());
  fv::WorkerMessage first;
  if (!stream->Read(&first)) return grpc::Status::OK;
  if (!first.has_register_()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first message of Work must be Register");
  }
  const fv::Register& reg = first.register_();
  if (reg.slots() < 1 || reg.slots() > 1024) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("Register.slots must be 1..1024, got ", reg.slots()));
  }
  Properties props;
  for (const auto& p : reg.properties()) {
    if (p.name().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "Register.properties: empty property name");
    }
    props.emplace_back(p.name(), p.value());
  }
  const std::string name = reg.name().empty() ? context->peer() : reg.name();
  const std::string id =
      scheduler_->AddWorker(name, props, reg.slots(), context->peer());
  common::LogInfo("executor ", name, " (", id, ") registered from ",
                  context->peer(), " with ", reg.slots(), " slot(s), ",
                  PropertiesText(props));
  fv::CoordinatorMessage hello;
  hello.mutable_registered()->set_worker_id(id);
  hello.mutable_registered()->set_heartbeat_interval_ms(
      absl::ToInt64Milliseconds(heartbeat_interval_));
  if (!stream->Write(hello)) {
    scheduler_->RemoveWorker(id, "stream closed");
    return grpc::Status::OK;
  }
  // Completions are checked and recorded (cache round trips) off the
  // reader, so heartbeats keep being read while a big result is checked.
  absl::Mutex completions_mu;
  std::deque<fv::Completion> completions;
  bool reading = true;
  std::thread recorder([&] {
    while (true) {
      fv::Completion c;
      {
        absl::MutexLock lock(&completions_mu);
        auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(completions_mu) {
          return !completions.empty() || !reading;
        };
        completions_mu.Await(absl::Condition(&ready));
        if (completions.empty()) return;
        c = std::move(completions.front());
        completions.pop_front();
      }
      HandleCompletion(id, name, c);
    }
  });
  std::thread reader([&] {
    fv::WorkerMessage m;
    while (stream->Read(&m)) {
      if (m.has_heartbeat()) {
        scheduler_->Heartbeat(id, {m.heartbeat().lease_ids().begin(),
                                   m.heartbeat().lease_ids().end()});
      } else {
        scheduler_->Seen(id);
      }
      if (m.has_completion()) {
        absl::MutexLock lock(&completions_mu);
        completions.push_back(std::move(*m.mutable_completion()));
      }
    }
    {
      absl::MutexLock lock(&completions_mu);
      reading = false;
    }
    recorder.join();
    scheduler_->RemoveWorker(id, "stream closed");
  });
  // A stream that ends is noticed by the reader (the worker is removed, so
  // NextWork fails) or by a failed Write; asking gRPC (IsCancelled polls the
  // call's completion queue) is left for idle seconds.
  while (true) {
    absl::StatusOr<std::optional<WorkItem>> item =
        scheduler_->NextWork(id, absl::Seconds(1));
    if (!item.ok()) break;  // removed: closed, or silent too long
    if (!item->has_value()) {
      if (context->IsCancelled()) break;
      continue;
    }
    fv::CoordinatorMessage out;
    if ((*item)->kind == WorkItem::Kind::kCancel) {
      out.mutable_cancel()->set_lease_id((*item)->lease_id);
    } else {
      fv::Lease* lease = out.mutable_lease();
      lease->set_lease_id((*item)->lease_id);
      *lease->mutable_action_digest() = (*item)->action.ToProto();
      if ((*item)->messages != nullptr) {
        *lease->mutable_action() = (*item)->messages->action;
        *lease->mutable_command() = (*item)->messages->command;
      }
      lease->set_attempt((*item)->attempt);
      lease->set_timeout_seconds(absl::ToInt64Seconds((*item)->timeout));
      for (const common::HostCredential& c : (*item)->credentials) {
        fv::HostCredential* l = lease->add_credentials();
        l->set_host(c.host);
        l->set_username(c.username);
        l->set_password(c.password);
      }
    }
    if (!stream->Write(out)) break;
  }
  scheduler_->RemoveWorker(id, "stream closed");
  context->TryCancel();  // unblocks the reader
  reader.join();
  common::LogInfo("executor ", name, " (", id, ") disconnected");
  return grpc::Status::OK;
}

}  // namespace pbrx::coordinator
