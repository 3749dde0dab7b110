#include "coordinator/status_page.h"

#include "coordinator/farm_status_json.h"
#include "coordinator/status_snapshot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

StatusSnapshot Sample() {
  StatusSnapshot s;
  s.version = "9.9.9";
  s.cache = "grpc://cache:1";
  s.now = absl::FromUnixSeconds(1000);
  s.wall = absl::FromUnixSeconds(1800000000);
  WorkerInfo w;
  w.name = "e1<b>";
  w.peer = "ipv4:10.0.0.2:5000";
  w.slots = 2;
  w.busy = 1;
  w.connected = absl::FromUnixSeconds(900);
  w.running.push_back({"wheel-build", "abcdef0123456789/42", "build-7", 2,
                       absl::FromUnixSeconds(970)});
  s.scheduler.workers.push_back(w);
  s.scheduler.queued = 3;
  s.scheduler.running = 1;
  s.scheduler.queued_by_group["build-7"] = 3;
  s.cache_hits = 6;
  s.joined = 0;
  s.executed = 2;
  s.failed = 0;
  TrackedBuild b;
  b.id = "build-7";
  b.peer = "ipv4:10.0.0.9:4000";
  b.started = absl::FromUnixSeconds(940);
  b.projects.push_back({"svc", "running", "wheel-build ffi-1.0.tar.gz", 4, 1});
  b.projects.push_back({"<script>alert(1)</script>", "waiting", "", 0, 0});
  s.builds.push_back(b);
  s.failures.push_back({absl::FromUnixSeconds(990), "build-6", "bad",
                        "step wheel-build failed: exit 1\n  log:\n<oops>"});
  return s;
}

TEST(StatusPageTest, HtmlShowsEverySectionEscaped) {
  std::string html = StatusPageHtml(Sample());
  EXPECT_THAT(html, HasSubstr("<b id=\"executors\">1</b> executors"));
  EXPECT_THAT(html, HasSubstr("<b id=\"slots\">1/2</b> slots busy"));
  EXPECT_THAT(html, HasSubstr("<b id=\"queued\">3</b> queued"));
  EXPECT_THAT(html, HasSubstr("<b id=\"hit-ratio\">75%</b>"));
  EXPECT_THAT(html, HasSubstr("e1&lt;b&gt;"));
  EXPECT_THAT(html, HasSubstr("wheel-build <code>abcdef012345</code> for 30s "
                              "(attempt 2)"));
  EXPECT_THAT(html, HasSubstr("<td>build-7</td><td class=\"num\">3</td>"));
  EXPECT_THAT(html, HasSubstr("running: wheel-build ffi-1.0.tar.gz"));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, HasSubstr("<pre>step wheel-build failed: exit 1\n  "
                              "log:\n&lt;oops&gt;</pre>"));
  EXPECT_THAT(html, HasSubstr("2027-01-15 08:00:00 UTC"));
}

TEST(StatusPageTest, JsonIsFarmStatusWithTheSameData) {
  const pbrx::farm::v1::GetStatusResponse status = ToFarmStatus(Sample());
  EXPECT_EQ(status.executors(0).connected_seconds(), 100);
  EXPECT_EQ(status.executors(0).running(0).seconds(), 30);
  EXPECT_EQ(status.builds(0).seconds(), 60);
  EXPECT_EQ(status.time(), "2027-01-15T08:00:00Z");
  std::string json = FarmStatusJson(status);
  EXPECT_THAT(json, HasSubstr("\"schema\": \"pbrx.farm-status/v1\""));
  EXPECT_THAT(json, HasSubstr("\"version\": \"9.9.9\""));
  EXPECT_THAT(json, HasSubstr("\"cache_hit_ratio\": 0.75"));
  EXPECT_THAT(json, HasSubstr("\"build-7\": 3"));
  EXPECT_THAT(json, HasSubstr("\"seconds_ago\": 10"));
  EXPECT_THAT(json, HasSubstr("\"state\": \"running\""));
  EXPECT_THAT(json, HasSubstr("\"kind\": \"wheel-build\""));
}

TEST(StatusPageTest, HitRatioIsZeroBeforeAnyStep) {
  EXPECT_EQ(CacheHitRatio(0, 0, 0, 0), 0);
  EXPECT_EQ(CacheHitRatio(6, 0, 2, 0), 0.75);
}

TEST(StatusPageTest, EmptyFarm) {
  StatusSnapshot s;
  std::string html = StatusPageHtml(s);
  EXPECT_THAT(html, HasSubstr("none connected"));
  EXPECT_THAT(html, HasSubstr("<b id=\"hit-ratio\">0%</b>"));
}

}  // namespace
}  // namespace pbrx::coordinator
