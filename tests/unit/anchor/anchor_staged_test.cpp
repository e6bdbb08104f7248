// Staged rollouts through the anchor (staged_rollouts.h) over the fake broker: a strategy on
// app.deploy / app.rollback publishes each wave as one new generation of the group's
// document, the gate is judged from the nodes' reported state and the clock, a failed gate
// pauses or rolls back, rollout.* commands are audited, the progress survives a kill -9,
// and a hostile strategy is refused naming the field with nothing changed.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "anchor/staged_rollouts.h"
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using namespace std::chrono_literals;

namespace {

// A group `line` of n1, n2, n3 (all Ready) running `web` at revision 1.
struct Site : AnchorFixture {
  explicit Site(AnchorOptions config = {}) : AnchorFixture(std::move(config)) {
    for (int i = 1; i <= 3; ++i) nodeOnline("n" + std::to_string(i), 1000 + i);
    ok("group.create", Json{{"name", "line"}});
    ok("group.add", Json{{"group", "line"}, {"nodes", {"n1", "n2", "n3"}}});
    ok("app.deploy", deploy(kCompose));
    for (int i = 1; i <= 3; ++i) reportState("n" + std::to_string(i), {{"web", 1}});
  }

  static Json deploy(const std::string& compose, Json strategy = nullptr) {
    Json body{{"name", "web"}, {"target", {{"group", "line"}}}, {"compose", compose}};
    if (!strategy.is_null()) body["strategy"] = std::move(strategy);
    return body;
  }

  Json doc() { return *groupDoc("line"); }
  Json app() { return ok("app.get", Json{{"name", "web"}}); }
  std::string phase() { return app()["rollout"]["staged"]["phase"].get<std::string>(); }
  void reportAll(int64_t rev, const std::vector<std::string>& nodes) {
    for (const auto& n : nodes) reportState(n, {{"web", rev}});
  }
};

Json canaryStrategy(const std::string& on_failure = "pause") {
  return Json{{"waves", {"n1", "100%"}}, {"gate", {{"soak", 2}}}, {"on_failure", on_failure}};
}

}  // namespace

TEST_CASE("a staged deploy publishes each wave as one generation of the group document") {
  Site s;
  int64_t gen = s.doc()["generation"].get<int64_t>();
  Json r = s.ok("app.deploy", Site::deploy(kCompose2, canaryStrategy()));
  CHECK(r["revision"] == 2);
  CHECK(r["rollout"]["phase"] == "gating");
  Json doc = s.doc();
  CHECK(doc["v"] == 2);
  CHECK(doc["generation"] == gen + 1);
  Json entry = doc["apps"][0];
  CHECK(entry["revision"] == 2);
  CHECK(entry["staged"]["nodes"] == Json::array({"n1"}));
  CHECK(entry["staged"]["previous"]["revision"] == 1);

  // The canary runs it; its soak holds the next wave until it is over.
  s.reportAll(2, {"n1"});
  s.advance(1000ms);
  CHECK(s.doc()["generation"] == gen + 1);
  Json summary = s.app()["rollout"];
  CHECK(summary["staged"]["phase"] == "gating");
  CHECK(summary["staged"]["gate"][0]["gate"] == "soaking");
  CHECK(summary["staged"]["soak_left_ms"].get<int64_t>() > 0);
  // Nodes outside the wave run what the document gives them: the previous revision.
  CHECK(summary["running"] == 3);
  s.advance(2000ms);
  doc = s.doc();
  CHECK(doc["generation"] == gen + 2);
  CHECK(doc["v"] == 1);
  CHECK_FALSE(doc["apps"][0].contains("staged"));
  s.reportAll(2, {"n1", "n2", "n3"});
  s.advance(3000ms);
  CHECK(s.phase() == "complete");
  CHECK(s.doc()["generation"] == gen + 2);  // completing publishes nothing more
  auto retained = s.retainedJson(topics::appRollout("web"));
  REQUIRE(retained);
  CHECK((*retained)["staged"]["phase"] == "complete");
}

TEST_CASE("a failing canary with on_failure rollback returns the group to the previous revision") {
  Site s;
  s.ok("app.deploy", Site::deploy(kCompose2, canaryStrategy("rollback")));
  s.reportState("n1", {{"web", 2}}, AppPhase::kCrashLoop);
  s.advance(1000ms);
  Json doc = s.doc();
  CHECK(doc["v"] == 1);
  CHECK(doc["apps"][0]["revision"] == 1);
  CHECK(doc["apps"][0]["compose"] == kCompose);
  CHECK_FALSE(doc["apps"][0].contains("staged"));
  Json app = s.app();
  CHECK(app["revision"] == 1);
  CHECK(app["rollout"]["staged"]["phase"] == "rolled_back");
  CHECK(app["rollout"]["staged"]["reason"].get<std::string>().find("n1: CrashLoop") !=
        std::string::npos);
  // The history says how revision 2 was rolled out.
  Json history = s.ok("app.history", Json{{"name", "web"}})["revisions"];
  REQUIRE(history.size() == 2);
  CHECK(history[0]["revision"] == 2);
  CHECK(history[0]["note"] == "deploy (staged)");
  CHECK(history[0]["rollout"]["phase"] == "rolled_back");
  CHECK(history[1]["rollout"]["kind"] == "plain");
  // The failed revision's number is not given again.
  Json next = s.ok("app.deploy", Site::deploy("services:\n  web:\n    image: nginx:1.27\n"));
  CHECK(next["revision"] == 3);
}

TEST_CASE("a failing canary with on_failure pause holds the wave until an operator acts") {
  Site s;
  s.ok("app.deploy", Site::deploy(kCompose2, canaryStrategy()));
  s.reportState("n1", {{"web", 2}}, AppPhase::kCrashLoop);
  s.advance(1000ms);
  CHECK(s.phase() == "paused");
  CHECK(s.doc()["apps"][0]["staged"]["nodes"] == Json::array({"n1"}));
  // Changes of the app wait for the rollout to end.
  CHECK(s.errorCode("app.deploy", Site::deploy(kCompose)) == "conflict");
  CHECK(s.errorCode("app.stop", Json{{"name", "web"}}) == "conflict");
  Json aborted = s.ok("rollout.abort", Json{{"name", "web"}});
  CHECK(aborted["phase"] == "aborted");
  CHECK(aborted["revision"] == 1);
  CHECK(s.doc()["apps"][0]["revision"] == 1);
  CHECK(s.errorCode("rollout.abort", Json{{"name", "web"}}) == "conflict");
  auto events = s.ok("events.query", Json{{"app", "web"}, {"kind", "rollout.abort"}});
  REQUIRE(events["events"].size() == 1);
  CHECK(events["events"][0]["user"] == "ops");
}

TEST_CASE("pause holds the next wave, resume continues, promote takes the whole target") {
  Site s;
  int64_t gen = s.doc()["generation"].get<int64_t>();
  Json strategy{{"waves", {"n1", "50%", "100%"}}, {"gate", {{"soak", 1}}}};
  s.ok("app.deploy", Site::deploy(kCompose2, strategy));
  CHECK(s.ok("rollout.pause", Json{{"name", "web"}})["phase"] == "paused");
  CHECK(s.errorCode("rollout.pause", Json{{"name", "web"}}) == "conflict");
  s.reportAll(2, {"n1"});
  s.advance(3000ms);
  CHECK(s.doc()["generation"] == gen + 1);  // paused: no next wave
  CHECK(s.ok("rollout.resume", Json{{"name", "web"}})["phase"] == "gating");
  s.advance(2000ms);
  CHECK(s.doc()["generation"] == gen + 2);  // the 50 % wave
  CHECK(s.doc()["apps"][0].contains("staged"));
  Json promoted = s.ok("rollout.promote", Json{{"name", "web"}});
  CHECK(promoted["phase"] == "complete");
  CHECK(s.doc()["generation"] == gen + 3);
  CHECK_FALSE(s.doc()["apps"][0].contains("staged"));
  CHECK(s.errorCode("rollout.resume", Json{{"name", "web"}}) == "conflict");
  CHECK(s.errorCode("rollout.pause", Json{{"name", "nope"}}) == "not_found");
  CHECK(s.errorCode("rollout.pause", Json{{"name", "web"}}, "viewer") == "permission_denied");
}

TEST_CASE("an anchor killed during a gate continues the rollout where it was after restart") {
  Site s;
  s.ok("app.deploy", Site::deploy(kCompose2, canaryStrategy()));
  int64_t gen = s.doc()["generation"].get<int64_t>();
  s.reportAll(2, {"n1"});
  s.advance(500ms);
  s.killAnchor();
  s.startAnchor();
  CHECK(s.doc()["generation"] == gen);  // the restart publishes no wave again
  CHECK(s.phase() == "gating");
  s.advance(3000ms);
  CHECK(s.doc()["generation"] == gen + 1);
  s.reportAll(2, {"n1", "n2", "n3"});
  s.advance(3000ms);
  CHECK(s.phase() == "complete");
  CHECK(s.doc()["generation"] == gen + 1);
}

TEST_CASE("a wave waits while the update window is shut") {
  Site s;
  LocalTime now = localTime(s.config().site_time_zone, s.clock().nowMs());
  int start = (now.minute + 120) % 1440;
  int end = (now.minute + 180) % 1440;
  std::string window =
      fmt::format("daily {:02}:{:02}-{:02}:{:02}", start / 60, start % 60, end / 60, end % 60);
  Json strategy = canaryStrategy();
  strategy["window"] = window;
  s.ok("app.deploy", Site::deploy(kCompose2, strategy));
  CHECK(s.phase() == "waiting");
  Json entry = s.doc()["apps"][0];
  CHECK(entry["staged"]["nodes"] == Json::array());  // every node keeps revision 1
  CHECK(entry["staged"]["cutoff"] == 0);
  s.advance(2000ms);
  CHECK(s.phase() == "waiting");
  CHECK(s.app()["rollout"]["staged"]["reason"] == "waiting for the update window");
}

TEST_CASE("the update window is read in the configured site time zone") {
  TimeZone tokyo = *TimeZone::load("Asia/Tokyo");
  TimeZone utc = *TimeZone::load("UTC");
  // A two-hour window around the time of day in Tokyo: open there, shut in UTC (9 h behind).
  auto window = [](const TimeZone& zone, int64_t now_ms) {
    int minute = localTime(zone, now_ms).minute;
    int start = (minute + 1440 - 60) % 1440;
    int end = (minute + 60) % 1440;
    return fmt::format("daily {:02}:{:02}-{:02}:{:02}", start / 60, start % 60, end / 60, end % 60);
  };
  AnchorOptions in_tokyo;
  in_tokyo.site_time_zone = tokyo;
  Site s(in_tokyo);
  std::string open_in_tokyo = window(tokyo, s.clock().nowMs());
  Json strategy = canaryStrategy();
  strategy["window"] = open_in_tokyo;
  s.ok("app.deploy", Site::deploy(kCompose2, strategy));
  CHECK(s.phase() == "gating");
  CHECK(s.doc()["apps"][0]["staged"]["nodes"] == Json::array({"n1"}));
  Json staged = s.app()["rollout"]["staged"];
  CHECK(staged["window"] == open_in_tokyo);
  CHECK(staged["time_zone"] == "Asia/Tokyo");

  AnchorOptions in_utc;
  in_utc.site_time_zone = utc;
  Site u(in_utc);
  REQUIRE(u.clock().nowMs() == s.clock().nowMs());  // the same instant
  u.ok("app.deploy", Site::deploy(kCompose2, strategy));
  CHECK(u.phase() == "waiting");
  CHECK(u.doc()["apps"][0]["staged"]["nodes"] == Json::array());
  staged = u.app()["rollout"]["staged"];
  CHECK(staged["time_zone"] == "UTC");
  CHECK(staged["reason"] == "waiting for the update window");
}

TEST_CASE("a hostile strategy is refused naming the field and changes nothing") {
  Site s;
  int64_t gen = s.doc()["generation"].get<int64_t>();
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json{{"waves", {"0%"}}}, "strategy.waves[0]"},
      {Json{{"waves", {"200%"}}}, "strategy.waves[0]"},
      {Json{{"waves", {"50%", "10%"}}}, "strategy.waves[1]"},
      {Json{{"waves", {"ghost"}}}, "strategy.waves[0]"},
      {Json{{"waves", {"n1", "n1"}}}, "strategy.waves[1]"},
      {Json{{"waves", "n1"}}, "strategy.waves"},
      {Json{{"waves", {"n1"}}, {"gate", {{"soak", -5}}}}, "strategy.gate.soak"},
      {Json{{"waves", {"n1"}}, {"gate", {{"timeout", "-1m"}}}}, "strategy.gate.timeout"},
      {Json{{"waves", {"n1"}}, {"gate", {{"max_failed", -1}}}}, "strategy.gate.max_failed"},
      {Json{{"waves", {"n1"}}, {"on_failure", "explode"}}, "strategy.on_failure"},
      {Json{{"waves", {"n1"}}, {"window", "daily 10:00-10:00"}}, "strategy.window"},
      {Json{{"waves", {"n1"}}, {"window", "someday"}}, "strategy.window"},
  };
  for (const auto& [strategy, path] : cases) {
    Json r = s.request("app.deploy", Site::deploy(kCompose2, strategy));
    INFO(strategy.dump() << " -> " << r.dump());
    REQUIRE(r["ok"] == false);
    CHECK(r["error"]["code"] == "invalid_argument");
    CHECK(r["error"]["path"] == path);
  }
  // A node that exists but is outside the target.
  s.nodeOnline("n9", 1009);
  Json r = s.request("app.deploy", Site::deploy(kCompose2, Json{{"waves", {"n9"}}}));
  CHECK(r["error"]["path"] == "strategy.waves[0]");
  CHECK(r["error"]["message"].get<std::string>().find("not in the target") != std::string::npos);
  CHECK(s.errorCode("app.deploy", Site::deploy(kCompose2, "fast")) == "invalid_argument");
  CHECK(s.doc()["generation"] == gen);
  CHECK(s.app()["revision"] == 1);
  CHECK_FALSE(s.app()["rollout"].contains("staged"));
}

TEST_CASE("app rollback takes a strategy too") {
  Site s;
  s.ok("app.deploy", Site::deploy(kCompose2));
  s.reportAll(2, {"n1", "n2", "n3"});
  Json r =
      s.ok("app.rollback", Json{{"name", "web"}, {"revision", 1}, {"strategy", canaryStrategy()}});
  CHECK(r["revision"] == 3);
  CHECK(r["rollout"]["previous_revision"] == 2);
  Json entry = s.doc()["apps"][0];
  CHECK(entry["compose"] == kCompose);
  CHECK(entry["staged"]["nodes"] == Json::array({"n1"}));
  CHECK(entry["staged"]["previous"]["revision"] == 2);
}
