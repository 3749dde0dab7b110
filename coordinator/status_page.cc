#include "coordinator/status_page.h"

#include <civetweb.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "coordinator/farm_status_json.h"

namespace pbrx::coordinator {
namespace {

std::string Html(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"&", "&amp;"},
                                 {"<", "&lt;"},
                                 {">", "&gt;"},
                                 {"\"", "&quot;"},
                                 {"'", "&#39;"}});
}

std::string Ago(absl::Time then, absl::Time now) {
  int64_t s = absl::ToInt64Seconds(now - then);
  if (s < 0) s = 0;
  if (s < 120) return absl::StrCat(s, "s");
  if (s < 7200) return absl::StrCat(s / 60, "m");
  return absl::StrCat(s / 3600, "h");
}

std::string Kind(const std::string& kind) {
  return kind.empty() ? "action" : kind;
}

constexpr char kStyle[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 "
    ".4em}table{border-collapse:collapse;width:100%}th,td{text-align:left;"
    "padding:.25em .6em;border-bottom:1px solid #ddd;vertical-align:top}"
    "th{background:#f3f3f3}.num{text-align:right}.summary span{display:"
    "inline-block;margin-right:1.5em}.summary b{font-size:1.3em}.failed{"
    "color:#a00}.done{color:#070}pre{white-space:pre-wrap;margin:0;"
    "max-height:14em;overflow:auto;background:#f8f8f8;padding:.4em}"
    ".empty{color:#777}code{font-size:.9em}";

}  // namespace

std::string StatusPageHtml(const StatusSnapshot& s) {
  int busy_slots = 0, slots = 0;
  for (const WorkerInfo& w : s.scheduler.workers) {
    busy_slots += w.busy;
    slots += w.slots;
  }
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"5\">"
      "<title>pbrx farm</title><style>",
      kStyle, "</style></head><body>\n<h1>pbrx farm</h1>\n", "<p>coordinator ",
      Html(s.version), ", cache <code>", Html(s.cache), "</code>, ",
      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", s.wall, absl::UTCTimeZone()),
      "</p>\n<p class=\"summary\" id=\"summary\">",
      "<span><b id=\"executors\">", s.scheduler.workers.size(),
      "</b> executors</span><span><b id=\"slots\">", busy_slots, "/", slots,
      "</b> slots busy</span><span><b id=\"queued\">", s.scheduler.queued,
      "</b> queued</span><span><b id=\"running\">", s.scheduler.running,
      "</b> running</span><span><b id=\"builds\">", s.builds.size(),
      "</b> builds in flight</span><span><b id=\"hit-ratio\">",
      absl::StrFormat("%.0f%%", 100 * CacheHitRatio(s.cache_hits, s.joined,
                                                    s.executed, s.failed)),
      "</b> of steps from the cache (", s.cache_hits, " hits, ", s.joined,
      " joined, ", s.executed, " run, ", s.failed, " failed, ", s.retried,
      " retried)</span></p>\n");

  out +=
      "<h2>Executors</h2>\n<table id=\"executor-table\"><tr><th>name</th>"
      "<th>peer</th><th class=\"num\">slots</th><th>running</th>"
      "<th class=\"num\">up</th></tr>\n";
  if (s.scheduler.workers.empty())
    out += "<tr><td colspan=\"5\" class=\"empty\">none connected</td></tr>\n";
  for (const WorkerInfo& w : s.scheduler.workers) {
    std::string running;
    for (const RunningAction& a : w.running) {
      absl::StrAppend(
          &running, Html(Kind(a.kind)), " <code>", Html(a.action.substr(0, 12)),
          "</code> for ", Ago(a.leased_at, s.now),
          a.attempt > 1 ? absl::StrCat(" (attempt ", a.attempt, ")") : "",
          " <span class=\"empty\">", Html(a.group), "</span><br>");
    }
    absl::StrAppend(
        &out, "<tr class=\"executor\"><td>", Html(w.name), "</td><td>",
        Html(w.peer), "</td><td class=\"num\">", w.busy, "/", w.slots,
        "</td><td>",
        running.empty() ? "<span class=\"empty\">idle</span>" : running,
        "</td><td class=\"num\">", Ago(w.connected, s.now), "</td></tr>\n");
  }
  out += "</table>\n";

  out +=
      "<h2>Queue</h2>\n<table id=\"queue-table\"><tr><th>build or "
      "client</th><th class=\"num\">queued</th></tr>\n";
  if (s.scheduler.queued_by_group.empty())
    out += "<tr><td colspan=\"2\" class=\"empty\">empty</td></tr>\n";
  for (const auto& [group, n] : s.scheduler.queued_by_group) {
    absl::StrAppend(&out, "<tr><td>", Html(group), "</td><td class=\"num\">", n,
                    "</td></tr>\n");
  }
  out += "</table>\n";

  out +=
      "<h2>Builds in flight</h2>\n<table id=\"build-table\"><tr><th>"
      "build</th><th>project</th><th>state</th><th class=\"num\">steps "
      "cached / run</th></tr>\n";
  if (s.builds.empty())
    out += "<tr><td colspan=\"4\" class=\"empty\">none</td></tr>\n";
  for (const TrackedBuild& b : s.builds) {
    for (size_t i = 0; i < b.projects.size(); ++i) {
      const TrackedProject& p = b.projects[i];
      std::string state = Html(p.state);
      if (!p.current.empty()) absl::StrAppend(&state, ": ", Html(p.current));
      absl::StrAppend(
          &out, "<tr class=\"project\">",
          i == 0 ? absl::StrCat("<td rowspan=\"", b.projects.size(), "\">",
                                Html(b.id), "<br><span class=\"empty\">",
                                Html(b.peer), ", ", Ago(b.started, s.now),
                                "</span></td>")
                 : "",
          "<td>", Html(p.dir), "</td><td class=\"", Html(p.state), "\">", state,
          "</td><td class=\"num\">", p.cached, " / ", p.run, "</td></tr>\n");
    }
  }
  out += "</table>\n";

  out +=
      "<h2>Last failures</h2>\n<table id=\"failure-table\"><tr><th>when"
      "</th><th>build</th><th>project</th><th>error</th></tr>\n";
  if (s.failures.empty())
    out += "<tr><td colspan=\"4\" class=\"empty\">none</td></tr>\n";
  for (const TrackedFailure& f : s.failures) {
    absl::StrAppend(&out, "<tr class=\"failure\"><td>", Ago(f.when, s.now),
                    " ago</td><td>", Html(f.build), "</td><td>", Html(f.dir),
                    "</td><td><pre>", Html(f.message), "</pre></td></tr>\n");
  }
  out +=
      "</table>\n<p class=\"empty\">Reloads every 5 s. The same data: "
      "<a href=\"status.json\">status.json</a>.</p>\n</body></html>\n";
  return out;
}

namespace {

int Respond(mg_connection* conn, const char* type, const std::string& body) {
  const mg_request_info* ri = mg_get_request_info(conn);
  if (ri == nullptr || (std::strcmp(ri->request_method, "GET") != 0 &&
                        std::strcmp(ri->request_method, "HEAD") != 0)) {
    mg_printf(conn,
              "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"
              "Content-Length: 0\r\nConnection: close\r\n\r\n");
    return 405;
  }
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
            "Content-Security-Policy: default-src 'none'; style-src "
            "'unsafe-inline'\r\nConnection: close\r\n\r\n",
            type, body.size());
  if (std::strcmp(ri->request_method, "GET") == 0)
    mg_write(conn, body.data(), body.size());
  return 200;
}

}  // namespace

int StatusPageServer::HandlePage(mg_connection* conn, void* self) {
  auto* server = static_cast<StatusPageServer*>(self);
  return Respond(conn, "text/html; charset=utf-8",
                 StatusPageHtml(server->snapshot_()));
}

int StatusPageServer::HandleJson(mg_connection* conn, void* self) {
  auto* server = static_cast<StatusPageServer*>(self);
  return Respond(conn, "application/json",
                 FarmStatusJson(ToFarmStatus(server->snapshot_())));
}

absl::StatusOr<std::unique_ptr<StatusPageServer>> StatusPageServer::Start(
    const std::string& listen, std::function<StatusSnapshot()> snapshot) {
  std::unique_ptr<StatusPageServer> server(new StatusPageServer());
  server->snapshot_ = std::move(snapshot);
  mg_init_library(0);
  const char* options[] = {"listening_ports",
                           listen.c_str(),
                           "num_threads",
                           "2",
                           "request_timeout_ms",
                           "10000",
                           "enable_directory_listing",
                           "no",
                           nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  server->ctx_ = mg_start(&callbacks, nullptr, options);
  if (server->ctx_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on --http-listen ", listen));
  }
  mg_set_request_handler(server->ctx_, "/$", HandlePage, server.get());
  mg_set_request_handler(server->ctx_, "/status.json$", HandleJson,
                         server.get());
  mg_server_port ports[2];
  int n = mg_get_server_ports(server->ctx_, 2, ports);
  std::string host = listen.substr(0, listen.rfind(':'));
  server->address_ = absl::StrCat(host, ":", n > 0 ? ports[0].port : 0);
  return server;
}

StatusPageServer::~StatusPageServer() {
  if (ctx_ != nullptr) mg_stop(ctx_);
}

}  // namespace pbrx::coordinator
