// The history of an app's rollouts (rollout_history.h) through the anchor: app.history gives
// each revision how it was rolled out (plain, or staged with its waves and outcome), several
// rollouts in a row keep their own outcomes, only the last max_rollouts are kept, the store
// holds them across a restart, and a dropped app leaves none behind.
#include "anchor/rollout_history.h"

#include <doctest/doctest.h>

#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using namespace std::chrono_literals;

namespace {

std::string compose(int version) {
  return "services:\n  web:\n    image: nginx:1." + std::to_string(20 + version) + "\n";
}

// Group `line` of a and b (Ready), app `web` at revision 1 (a plain deploy).
struct Line : AnchorFixture {
  explicit Line(AnchorOptions config = {}) : AnchorFixture(std::move(config)) {
    nodeOnline("a", 1001);
    nodeOnline("b", 1002);
    ok("group.create", Json{{"name", "line"}});
    ok("group.add", Json{{"group", "line"}, {"nodes", {"a", "b"}}});
    deploy(1);
  }

  Json deploy(int version, Json strategy = nullptr) {
    Json body{{"name", "web"}, {"target", {{"group", "line"}}}, {"compose", compose(version)}};
    if (!strategy.is_null()) body["strategy"] = std::move(strategy);
    return ok("app.deploy", std::move(body));
  }
  void runs(int64_t revision) {
    for (const char* n : {"a", "b"}) reportState(n, {{"web", revision}});
  }
  // app.history decoded with the libpharos codec, as pharosctl reads it.
  AppHistoryResult history() {
    auto decoded = decodeAppHistoryResult(ok("app.history", Json{{"name", "web"}}));
    REQUIRE_MESSAGE(decoded.isOk(), decoded.status().message());
    return *decoded;
  }
  // The app's rollout records in the store.
  int records() {
    int n = 0;
    Store& kept = store();
    REQUIRE(kept.scan("rollout/web/",
                      [&n](std::string_view, std::string_view) {
                        ++n;
                        return true;
                      })
                .isOk());
    return n;
  }
  const RolloutOutcome& outcome(const AppHistoryResult& h, int64_t revision) {
    for (const auto& e : h.revisions) {
      if (e.revision == revision && e.rollout) return *e.rollout;
    }
    FAIL("revision " << revision << " has no rollout");
    static RolloutOutcome none;
    return none;
  }
};

Json canary(const std::string& on_failure) {
  return Json{{"waves", {"a", "100%"}}, {"gate", {{"soak", 1}}}, {"on_failure", on_failure}};
}

}  // namespace

TEST_CASE("app.history gives each revision of several rollouts in a row its own outcome") {
  Line s;
  s.runs(1);
  // Revision 2: staged, complete.
  s.deploy(2, canary("pause"));
  s.runs(2);
  s.advance(2500ms);
  s.runs(2);
  s.advance(2500ms);
  REQUIRE(s.ok("app.get", Json{{"name", "web"}})["rollout"]["staged"]["phase"] == "complete");
  // Revision 3: staged, its canary crashes: rolled back to 2.
  s.deploy(3, canary("rollback"));
  s.reportState("a", {{"web", 3}}, AppPhase::kCrashLoop);
  s.advance(1000ms);
  REQUIRE(s.ok("app.get", Json{{"name", "web"}})["revision"] == 2);
  // Revision 4: plain.
  s.deploy(4);

  AppHistoryResult h = s.history();
  REQUIRE(h.revisions.size() == 4);
  CHECK(h.revisions[0].revision == 4);
  CHECK(h.revisions[0].current);
  const RolloutOutcome& plain = s.outcome(h, 4);
  CHECK(plain.kind == "plain");
  CHECK(plain.previous_revision == 2);
  CHECK(plain.user == "ops");
  CHECK(plain.started == h.revisions[0].ts);
  CHECK(plain.phase.empty());

  const RolloutOutcome& failed = s.outcome(h, 3);
  CHECK(failed.kind == "staged");
  CHECK(failed.phase == "rolled_back");
  CHECK(failed.wave == 1);
  CHECK(failed.waves == 2);
  CHECK(failed.steps == std::vector<std::string>{"a", "100%"});
  CHECK(failed.previous_revision == 2);
  CHECK(failed.reason.find("a: CrashLoop") != std::string::npos);
  CHECK(failed.ended >= failed.started);
  CHECK(failed.started > 0);

  const RolloutOutcome& complete = s.outcome(h, 2);
  CHECK(complete.kind == "staged");
  CHECK(complete.phase == "complete");
  CHECK(complete.wave == 2);
  CHECK(complete.previous_revision == 1);
  CHECK(complete.ended > complete.started);

  const RolloutOutcome& first = s.outcome(h, 1);
  CHECK(first.kind == "plain");
  CHECK(first.previous_revision == 0);
}

TEST_CASE("only the last max_rollouts rollouts of an app are kept") {
  AnchorOptions config;
  config.max_rollouts = 3;
  Line s(config);
  for (int v = 2; v <= 6; ++v) s.deploy(v);
  AppHistoryResult h = s.history();
  REQUIRE(h.revisions.size() == 6);
  for (const auto& e : h.revisions) {
    INFO("revision " << e.revision);
    CHECK(e.rollout.has_value() == (e.revision >= 4));
  }
  CHECK(s.records() == 3);
}

TEST_CASE("a paused rollout's record survives an anchor restart and ends with the abort") {
  Line s;
  s.runs(1);
  s.deploy(2, canary("pause"));
  s.reportState("a", {{"web", 2}}, AppPhase::kFailed);
  s.advance(1000ms);
  s.killAnchor();
  s.startAnchor();
  const RolloutOutcome paused = s.outcome(s.history(), 2);
  CHECK(paused.phase == "paused");
  CHECK(paused.ended == 0);
  CHECK(paused.reason.find("a: Failed") != std::string::npos);

  s.ok("rollout.abort", Json{{"name", "web"}});
  s.killAnchor();
  s.startAnchor();
  const RolloutOutcome aborted = s.outcome(s.history(), 2);
  CHECK(aborted.phase == "aborted");
  CHECK(aborted.ended > 0);
  CHECK(aborted.started == paused.started);
}

TEST_CASE("removing an app mid-rollout records it aborted; dropping the app drops its records") {
  Line s;
  s.runs(1);
  s.deploy(2, canary("pause"));
  s.ok("app.remove", Json{{"name", "web"}});
  const RolloutOutcome removed = s.outcome(s.history(), 2);
  CHECK(removed.phase == "aborted");
  CHECK(removed.reason == "the app was removed");
  for (const char* n : {"a", "b"}) s.reportState(n, {});
  s.advance(1200ms);
  REQUIRE_FALSE(s.anchor().registry().findApp("web"));
  CHECK(s.records() == 0);
}

TEST_CASE("a damaged rollout record is refused by its decoder") {
  const std::vector<Json> bad = {
      Json::array(),
      Json{{"kind", "plain"}},                                           // no revision
      Json{{"revision", 2}, {"kind", "instant"}},                        // unknown kind
      Json{{"revision", 2}, {"kind", "staged"}},                         // no phase
      Json{{"revision", 2}, {"kind", "staged"}, {"phase", "exploded"}},  // unknown phase
      Json{{"revision", 2}, {"kind", "staged"}, {"phase", "paused"}, {"steps", {1}}},
  };
  for (const auto& j : bad) CHECK_MESSAGE(!rolloutRecordFromJson(j).isOk(), j.dump());
  RolloutRecord r;
  r.revision = 3;
  r.kind = RolloutKind::kStaged;
  r.steps = {"a", "50%"};
  r.phase = RolloutPhase::kRolledBack;
  r.reason = "x";
  auto back = rolloutRecordFromJson(toJson(r));
  REQUIRE(back.isOk());
  CHECK(*back == r);
}
