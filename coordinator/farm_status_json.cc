#include "coordinator/farm_status_json.h"

#include <map>
#include <vector>

#include "common/json_writer.h"

namespace pbrx::coordinator {

double CacheHitRatio(int64_t cache_hits, int64_t joined, int64_t executed,
                     int64_t failed) {
  const double reused = static_cast<double>(cache_hits + joined);
  const double total = reused + static_cast<double>(executed + failed);
  return total > 0 ? reused / total : 0;
}

std::string FarmStatusJson(const pbrx::farm::v1::GetStatusResponse& st,
                           bool pretty) {
  common::JsonWriter w(pretty);
  w.BeginObject().Key("schema").String("pbrx.farm-status/v1");
  w.Key("version").String(st.version()).Key("time").String(st.time());
  w.Key("cache").String(st.cache());
  w.Key("queued").Int(st.queued()).Key("running").Int(st.running());
  w.Key("builds_in_flight").Int(st.builds_in_flight());
  w.Key("steps").BeginObject();
  w.Key("cache_hits").Int(st.actions_cache_hits());
  w.Key("joined").Int(st.actions_joined());
  w.Key("executed").Int(st.actions_executed());
  w.Key("failed").Int(st.actions_failed());
  w.Key("retried").Int(st.actions_retried());
  w.Key("cache_hit_ratio")
      .Double(CacheHitRatio(st.actions_cache_hits(), st.actions_joined(),
                            st.actions_executed(), st.actions_failed()));
  w.EndObject();
  w.Key("executors").BeginArray();
  for (const auto& e : st.executors()) {
    w.BeginObject().Key("name").String(e.name());
    w.Key("worker_id").String(e.worker_id()).Key("peer").String(e.peer());
    w.Key("slots").Int(e.slots()).Key("busy").Int(e.busy());
    w.Key("connected_seconds").Int(e.connected_seconds());
    std::map<std::string, std::vector<std::string>> props;
    for (const auto& p : e.properties()) props[p.name()].push_back(p.value());
    w.Key("properties").BeginObject();
    for (const auto& [k, values] : props) w.Key(k).StringArray(values);
    w.EndObject();
    w.Key("running").BeginArray();
    for (const auto& a : e.running()) {
      w.BeginObject().Key("kind").String(a.kind()).Key("action").String(
          a.action());
      w.Key("build").String(a.build()).Key("attempt").Int(a.attempt());
      w.Key("seconds").Int(a.seconds()).EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray();
  w.Key("queue").BeginObject();
  for (const auto& q : st.queue()) w.Key(q.group()).Int(q.queued());
  w.EndObject();
  w.Key("builds").BeginArray();
  for (const auto& b : st.builds()) {
    w.BeginObject().Key("id").String(b.id()).Key("client").String(b.client());
    w.Key("seconds").Int(b.seconds()).Key("projects").BeginArray();
    for (const auto& p : b.projects()) {
      w.BeginObject().Key("dir").String(p.dir()).Key("state").String(p.state());
      w.Key("current").String(p.current());
      w.Key("steps_cached").Int(p.steps_cached());
      w.Key("steps_run").Int(p.steps_run()).EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray();
  w.Key("failures").BeginArray();
  for (const auto& f : st.failures()) {
    w.BeginObject().Key("seconds_ago").Int(f.seconds_ago());
    w.Key("build").String(f.build()).Key("dir").String(f.dir());
    w.Key("message").String(f.message()).EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

}  // namespace pbrx::coordinator
