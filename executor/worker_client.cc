#include "executor/worker_client.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "grpcpp/client_context.h"

namespace pbrx::executor {
namespace {

namespace fv = pbrx::farm::v1;

}  // namespace

WorkerClient::WorkerClient(std::shared_ptr<grpc::Channel> coordinator,
                           common::ActionExecutor* runner,
                           const WorkerClientOptions& options)
    : stub_(fv::Worker::NewStub(coordinator)),
      runner_(runner),
      options_(options) {}

void WorkerClient::Stop() {
  absl::MutexLock lock(&ctx_mu_);
  if (!stop_.HasBeenNotified()) stop_.Notify();  // Stop() may come twice
  if (current_ != nullptr) current_->TryCancel();
}

void WorkerClient::Run() {
  absl::Duration backoff = options_.min_backoff;
  while (!stop_.HasBeenNotified()) {
    absl::Time started = absl::Now();
    Session();
    ++sessions_;
    if (stop_.HasBeenNotified()) break;
    // A session that lasted a while resets the backoff.
    if (absl::Now() - started > absl::Seconds(30))
      backoff = options_.min_backoff;
    common::LogInfo("executor ", options_.name, ": reconnecting in ",
                    absl::FormatDuration(backoff));
    stop_.WaitForNotificationWithTimeout(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void WorkerClient::Session() {
  grpc::ClientContext ctx;
  {
    absl::MutexLock lock(&ctx_mu_);
    if (stop_.HasBeenNotified()) return;
    current_ = &ctx;
  }
  auto stream = stub_->Work(&ctx);
  absl::Mutex write_mu;  // one writer at a time on the stream
  fv::WorkerMessage reg;
  reg.mutable_register_()->set_name(options_.name);
  reg.mutable_register_()->set_slots(options_.slots);
  for (const auto& [n, v] : options_.properties) {
    auto* p = reg.mutable_register_()->add_properties();
    p->set_name(n);
    p->set_value(v);
  }
  fv::CoordinatorMessage hello;
  if (!stream->Write(reg) || !stream->Read(&hello) || !hello.has_registered()) {
    grpc::Status s = stream->Finish();
    common::LogInfo("executor ", options_.name,
                    ": cannot register with the coordinator: ",
                    s.ok() ? "stream closed" : s.error_message());
    absl::MutexLock lock(&ctx_mu_);
    current_ = nullptr;
    return;
  }
  absl::Duration heartbeat = absl::Milliseconds(
      std::max<int64_t>(100, hello.registered().heartbeat_interval_ms()));
  common::LogInfo("executor ", options_.name, ": registered as ",
                  hello.registered().worker_id());

  absl::Mutex leases_mu;
  std::set<std::string> running;
  common::SteadyNotification session_over;
  std::thread beat([&] {
    while (!session_over.WaitForNotificationWithTimeout(heartbeat)) {
      fv::WorkerMessage m;
      {
        absl::MutexLock lock(&leases_mu);
        for (const std::string& l : running)
          m.mutable_heartbeat()->add_lease_ids(l);
      }
      m.mutable_heartbeat();
      absl::MutexLock lock(&write_mu);
      if (!stream->Write(m)) break;
    }
  });
  // `slots` runners take leases from a queue (the coordinator never leases
  // more than the slots).
  std::deque<fv::Lease> queue;
  bool reading_done = false;
  // Cancellation flags of the leases being run.
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> cancel_flags;
  auto send_cancelled = [&](const std::string& lease_id) {
    fv::WorkerMessage m;
    m.mutable_completion()->set_lease_id(lease_id);
    *m.mutable_completion()->mutable_status() = common::ToRpcStatus(
        absl::CancelledError("cancelled before it started"));
    absl::MutexLock lock(&write_mu);
    stream->Write(m);
  };
  auto run_one = [&](const fv::Lease& lease) {
    fv::WorkerMessage done;
    fv::Completion* c = done.mutable_completion();
    c->set_lease_id(lease.lease_id());
    absl::StatusOr<common::Digest> digest =
        common::Digest::FromProto(lease.action_digest());
    auto flag = std::make_shared<std::atomic<bool>>(false);
    {
      absl::MutexLock lock(&leases_mu);
      cancel_flags[lease.lease_id()] = flag;
      if (reading_done) flag->store(true);
    }
    common::ExecuteOptions eo;
    eo.skip_cache_lookup = true;  // the coordinator looked already
    eo.cancel = flag.get();
    if (lease.has_action()) eo.action = &lease.action();
    if (lease.has_command()) eo.command = &lease.command();
    for (const fv::HostCredential& c : lease.credentials())
      eo.credentials.push_back({c.host(), c.username(), c.password()});
    absl::StatusOr<common::ActionOutcome> out =
        digest.ok() ? runner_->Run(*digest, eo)
                    : absl::StatusOr<common::ActionOutcome>(digest.status());
    {
      absl::MutexLock lock(&leases_mu);
      cancel_flags.erase(lease.lease_id());
    }
    if (out.ok()) {
      *c->mutable_result() = out->result;
      *c->mutable_status() = common::ToRpcStatus(out->status);
    } else {
      *c->mutable_status() = common::ToRpcStatus(out.status());
    }
    {
      absl::MutexLock lock(&leases_mu);
      running.erase(lease.lease_id());
    }
    absl::MutexLock lock(&write_mu);
    if (stream->Write(done)) ++completed_;
  };
  std::vector<std::thread> runners;
  for (int i = 0; i < std::max(1, options_.slots); ++i) {
    runners.emplace_back([&] {
      while (true) {
        fv::Lease lease;
        {
          absl::MutexLock lock(&leases_mu);
          auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(leases_mu) {
            return !queue.empty() || reading_done;
          };
          leases_mu.Await(absl::Condition(&ready));
          if (queue.empty()) return;
          lease = std::move(queue.front());
          queue.pop_front();
        }
        run_one(lease);
      }
    });
  }
  fv::CoordinatorMessage msg;
  while (stream->Read(&msg)) {
    if (msg.has_cancel()) {
      // Not started: dropped and reported; running: its command is killed
      // and the run reports CANCELLED.
      const std::string& id = msg.cancel().lease_id();
      bool dropped = false;
      {
        absl::MutexLock lock(&leases_mu);
        for (auto it = queue.begin(); it != queue.end(); ++it) {
          if (it->lease_id() == id) {
            queue.erase(it);
            running.erase(id);
            dropped = true;
            break;
          }
        }
        auto f = cancel_flags.find(id);
        if (f != cancel_flags.end()) f->second->store(true);
      }
      if (dropped) send_cancelled(id);
      common::LogInfo("executor ", options_.name, ": lease ", id, " cancelled");
      continue;
    }
    if (!msg.has_lease()) continue;
    absl::MutexLock lock(&leases_mu);
    running.insert(msg.lease().lease_id());
    queue.push_back(msg.lease());
  }
  {
    // Leases not started yet are dropped: the coordinator requeues them.
    absl::MutexLock lock(&leases_mu);
    reading_done = true;
    queue.clear();
    // Running commands are killed rather than waited for: their results
    // cannot be reported on another stream (the coordinator has requeued
    // their leases, or a restarted one never knew them), and a long run
    // would keep this executor from the farm (and SIGTERM from ending it).
    for (auto& [id, flag] : cancel_flags) flag->store(true);
  }
  // The stream ended: wait for the cancelled runs to wind down, then go.
  for (std::thread& t : runners) t.join();
  session_over.Notify();
  beat.join();
  grpc::Status s = stream->Finish();
  common::LogInfo("executor ", options_.name, ": session ended: ",
                  s.ok() ? "closed by the coordinator" : s.error_message());
  absl::MutexLock lock(&ctx_mu_);
  current_ = nullptr;
}

}  // namespace pbrx::executor
