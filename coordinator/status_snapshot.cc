#include "coordinator/status_snapshot.h"

namespace pbrx::coordinator {

namespace fv = ::pbrx::farm::v1;

fv::GetStatusResponse ToFarmStatus(const StatusSnapshot& s) {
  fv::GetStatusResponse out;
  for (const WorkerInfo& w : s.scheduler.workers) {
    fv::ExecutorStatus* e = out.add_executors();
    e->set_worker_id(w.id);
    e->set_name(w.name);
    e->set_peer(w.peer);
    e->set_slots(w.slots);
    e->set_busy(w.busy);
    for (const auto& [n, v] : w.properties) {
      auto* p = e->add_properties();
      p->set_name(n);
      p->set_value(v);
    }
    e->set_connected_seconds(absl::ToInt64Seconds(s.now - w.connected));
    for (const RunningAction& a : w.running) {
      fv::RunningActionStatus* r = e->add_running();
      r->set_kind(a.kind.empty() ? "action" : a.kind);
      r->set_action(a.action);
      r->set_build(a.group);
      r->set_attempt(a.attempt);
      r->set_seconds(absl::ToInt64Seconds(s.now - a.leased_at));
    }
  }
  out.set_queued(s.scheduler.queued);
  out.set_running(s.scheduler.running);
  out.set_builds_in_flight(s.builds_in_flight);
  out.set_actions_cache_hits(s.cache_hits);
  out.set_actions_joined(s.joined);
  out.set_actions_executed(s.executed);
  out.set_actions_failed(s.failed);
  out.set_actions_retried(s.retried);
  out.set_cache(s.cache);
  for (const TrackedBuild& b : s.builds) {
    fv::BuildStatus* bs = out.add_builds();
    bs->set_id(b.id);
    bs->set_client(b.peer);
    bs->set_seconds(absl::ToInt64Seconds(s.now - b.started));
    for (const TrackedProject& p : b.projects) {
      fv::ProjectStatus* ps = bs->add_projects();
      ps->set_dir(p.dir);
      ps->set_state(p.state);
      ps->set_current(p.current);
      ps->set_steps_cached(p.cached);
      ps->set_steps_run(p.run);
    }
  }
  for (const TrackedFailure& f : s.failures) {
    fv::FailureStatus* fs = out.add_failures();
    fs->set_seconds_ago(absl::ToInt64Seconds(s.now - f.when));
    fs->set_build(f.build);
    fs->set_dir(f.dir);
    fs->set_message(f.message);
  }
  for (const auto& [group, n] : s.scheduler.queued_by_group) {
    fv::QueueStatus* q = out.add_queue();
    q->set_group(group);
    q->set_queued(n);
  }
  out.set_version(s.version);
  out.set_time(
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", s.wall, absl::UTCTimeZone()));
  return out;
}

}  // namespace pbrx::coordinator
