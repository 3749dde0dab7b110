// The coordinator's status page (--http-listen HOST:PORT): "/" is a small
// self-contained HTML page (no scripts, no external assets; it reloads
// itself every 5 s) and "/status.json" the same data as `pbrx farm status
// --json` prints (FarmStatusJson, schema pbrx.farm-status/v1): executors with
// their slots and the actions they run, the queue by build, builds in flight
// with their projects and progress, the step cache-hit ratio, and the last
// failures with their log tails. Every string from a client, an executor or a
// build is escaped.
#ifndef PBRX_COORDINATOR_STATUS_PAGE_H_
#define PBRX_COORDINATOR_STATUS_PAGE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/status_snapshot.h"

struct mg_context;     // civetweb's
struct mg_connection;  // civetweb's

namespace pbrx::coordinator {

std::string StatusPageHtml(const StatusSnapshot& s);

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
