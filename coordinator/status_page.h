// The coordinator's status page (--http-listen HOST:PORT): "/" is a small
// self-contained HTML page (no scripts, no external assets; it reloads
// itself every 5 s) and "/status.json" the same data as JSON (schema
// pbrx.farm-page/v1): executors with their slots and the actions they run,
// the queue by build, builds in flight with their projects and progress,
// the step cache-hit ratio, and the last failures with their log tails.
// Every string from a client, an executor or a build is escaped.
#ifndef PBRX_COORDINATOR_STATUS_PAGE_H_
#define PBRX_COORDINATOR_STATUS_PAGE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coordinator/build_tracker.h"
#include "coordinator/scheduler.h"

struct mg_context;     // civetweb's
struct mg_connection;  // civetweb's

namespace pbrx::coordinator {

struct StatusSnapshot {
  std::string version;
  std::string cache;  // the cache endpoint
  SchedulerStats scheduler;
  // Steps since start, by outcome.
  double cache_hits = 0, joined = 0, executed = 0, failed = 0, retried = 0;
  std::vector<TrackedBuild> builds;
  std::vector<TrackedFailure> failures;  // newest first
  absl::Time now;   // on the clock of the times above (the farm's, monotonic)
  absl::Time wall;  // the wall clock, shown
};

std::string StatusPageHtml(const StatusSnapshot& s);
std::string StatusPageJson(const StatusSnapshot& s);

// Serves the page on `listen` (HOST:PORT; port 0 picks one) until
// destroyed; `snapshot` is called per request (from the server's threads).
class StatusPageServer {
 public:
  // UNAVAILABLE naming --http-listen when it cannot listen.
  static absl::StatusOr<std::unique_ptr<StatusPageServer>> Start(
      const std::string& listen, std::function<StatusSnapshot()> snapshot);
  ~StatusPageServer();
  StatusPageServer(const StatusPageServer&) = delete;
  StatusPageServer& operator=(const StatusPageServer&) = delete;

  const std::string& address() const { return address_; }

 private:
  StatusPageServer() = default;
  static int HandlePage(mg_connection* conn, void* self);
  static int HandleJson(mg_connection* conn, void* self);

  mg_context* ctx_ = nullptr;
  std::function<StatusSnapshot()> snapshot_;
  std::string address_;
};

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_STATUS_PAGE_H_
