// RolloutPlan: strategy parsing (every refusal names its field), update windows, the wave
// and gate state machine over a hand-moved clock and scripted node reports, operator
// commands, and the stored JSON form.
#include "anchor/rollout_plan.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

namespace pharos::anchor {
namespace {

constexpr int64_t kSecond = 1000;

Result<RolloutStrategy> parse(const std::string& text) {
  return parseRolloutStrategy(Json::parse(text), "strategy",
                              [](const std::string& n) { return n.rfind("press-", 0) == 0; });
}

RolloutStrategy strategy(const std::string& text) {
  auto s = parse(text);
  REQUIRE_MESSAGE(s.isOk(), s.status().message());
  return *s;
}

// A target of 20 nodes in two sub-groups, with scripted reports.
struct Fleet {
  std::vector<WaveMember> members;
  std::map<std::string, GateReport> reports;
  int64_t now = 1'000'000;
  LocalTime local{0, 23 * 60};  // Monday 23:00

  Fleet() {
    for (int i = 0; i < 20; ++i) {
      std::string name = (i < 10 ? "press-0" : "press-") + std::to_string(i);
      members.push_back({name, i < 10 ? "line-1" : "line-2"});
    }
  }
  PlanInputs inputs() {
    return PlanInputs{now, local, members, [this](const std::string& node) {
                        auto it = reports.find(node);
                        return it == reports.end()
                                   ? GateReport{true, 1, AppPhase::kRunning, true, 0}
                                   : it->second;
                      }};
  }
  // Every node in the current wave of `plan` runs `revision` healthily.
  void runWave(const RolloutPlan& plan, int64_t revision, int64_t restarts = 0) {
    AppSpec probe;
    probe.name = plan.state().app;
    probe.staged = plan.stagedFor(members);
    for (const std::string& n : waveNodes(probe, members)) {
      reports[n] = GateReport{true, revision, AppPhase::kRunning, true, restarts};
    }
  }
};

TEST_CASE("a strategy with defaults") {
  RolloutStrategy s = strategy(R"({"waves":["press-07","10%","50%","100%"]})");
  REQUIRE(s.waves.size() == 4);
  CHECK(s.waves[0] == WaveStep{{"press-07"}, 0});
  CHECK(s.waves[1].share == 1000);
  CHECK(s.waves[3].share == kWholeShare);
  CHECK(s.soak_ms == 60 * kSecond);
  CHECK(s.max_failed == 0);
  CHECK(s.timeout_ms == 15 * 60 * kSecond);
  CHECK(s.on_failure == OnFailure::kPause);
  CHECK_FALSE(s.window);
}

TEST_CASE("a strategy with every field; the whole target is implied at the end") {
  RolloutStrategy s = strategy(
      R"({"waves":[["press-07","press-08"],"2.5%",["press-09","25%"]],
          "gate":{"soak":"90s","max_failed":1,"timeout":"20m"},
          "on_failure":"rollback","window":"Mon-Fri 22:00-06:00"})");
  REQUIRE(s.waves.size() == 4);
  CHECK(s.waves[0].nodes.size() == 2);
  CHECK(s.waves[1].share == 250);
  CHECK(s.waves[2] == WaveStep{{"press-09"}, 2500});
  CHECK(s.waves[3].share == kWholeShare);
  CHECK(s.soak_ms == 90 * kSecond);
  CHECK(s.max_failed == 1);
  CHECK(s.timeout_ms == 20 * 60 * kSecond);
  CHECK(s.on_failure == OnFailure::kRollback);
  REQUIRE(s.window);
  CHECK(s.window->days == 0x1f);
  CHECK(s.window->start_minute == 22 * 60);
  CHECK(s.window->end_minute == 6 * 60);
  auto again = parseRolloutStrategy(toJson(s));
  REQUIRE(again.isOk());
  CHECK(*again == s);
}

TEST_CASE("hostile strategies are refused with the field named") {
  struct Case {
    const char* strategy;
    const char* message;
  };
  const Case cases[] = {
      {R"({})", "strategy.waves: is required"},
      {R"({"waves":[]})", "strategy.waves: needs at least one wave"},
      {R"({"waves":"10%"})", "strategy.waves: must be an array"},
      {R"({"waves":["0%"]})", "strategy.waves[0]: share 0%"},
      {R"({"waves":["200%"]})", "strategy.waves[0]: share 200%"},
      {R"({"waves":["-10%"]})", "strategy.waves[0]: '-10%' is not a share"},
      {R"({"waves":["10.123%"]})", "strategy.waves[0]: '10.123%' is not a share"},
      {R"({"waves":["50%","10%"]})", "strategy.waves[1]: shares must grow"},
      {R"({"waves":["100%","press-07"]})", "strategy.waves[1]: no wave can follow"},
      {R"({"waves":["Press 07"]})", "strategy.waves[0]: 'Press 07' is neither"},
      {R"({"waves":["robot-1"]})", "strategy.waves[0]: unknown node 'robot-1'"},
      {R"({"waves":["press-07","press-07"]})", "strategy.waves[1]: node 'press-07' is already"},
      {R"({"waves":[["press-07","press-07"]]})", "strategy.waves[0][1]: node 'press-07' is named"},
      {R"({"waves":[["10%","20%"]]})", "strategy.waves[0][1]: a wave has at most one share"},
      {R"({"waves":[[]]})", "strategy.waves[0]: an empty wave"},
      {R"({"waves":[7]})", "strategy.waves[0]: must be a node id or a share"},
      {R"({"waves":["10%"],"gate":{"soak":-5}})", "strategy.gate.soak: must not be negative"},
      {R"({"waves":["10%"],"gate":{"soak":"-5s"}})", "strategy.gate.soak: must not be negative"},
      {R"({"waves":["10%"],"gate":{"soak":"5 minutes"}})", "strategy.gate.soak: must be"},
      {R"({"waves":["10%"],"gate":{"timeout":0}})", "strategy.gate.timeout: must be above zero"},
      {R"({"waves":["10%"],"gate":{"timeout":"30s"}})", "strategy.gate.timeout: must be longer"},
      {R"({"waves":["10%"],"gate":{"soak":"9000h"}})", "strategy.gate.soak: must be"},
      {R"({"waves":["10%"],"gate":{"max_failed":-1}})", "strategy.gate.max_failed"},
      {R"({"waves":["10%"],"gate":{"soke":60}})", "strategy.gate.soke: unknown field"},
      {R"({"waves":["10%"],"on_failure":"explode"})", "strategy.on_failure: must be"},
      {R"({"waves":["10%"],"window":"whenever"})", "strategy.window: must be like"},
      {R"({"waves":["10%"],"window":"Mon-Fry 22:00-06:00"})", "strategy.window: 'mon-fry'"},
      {R"({"waves":["10%"],"window":"Mon 25:00-06:00"})", "strategy.window: '25:00-06:00'"},
      {R"({"waves":["10%"],"window":"Mon 10:00-10:00"})", "strategy.window: the window"},
      {R"({"waves":["10%"],"windows":"Mon 10:00-11:00"})", "strategy.windows: unknown field"},
      {R"([])", "strategy: must be an object"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.strategy);
    auto r = parse(c.strategy);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK_MESSAGE(r.status().message().find(c.message) != std::string::npos, r.status().message());
  }
}

TEST_CASE("update windows, including nights past midnight") {
  UpdateWindow night = *strategy(R"({"waves":["10%"],"window":"Mon-Fri 22:00-06:00"})").window;
  CHECK(windowOpen(night, {0, 22 * 60}));  // Monday 22:00
  CHECK_FALSE(windowOpen(night, {0, 21 * 60 + 59}));
  CHECK(windowOpen(night, {1, 5 * 60 + 59}));  // Tuesday 05:59, Monday's night
  CHECK_FALSE(windowOpen(night, {1, 6 * 60}));
  CHECK(windowOpen(night, {5, 3 * 60}));         // Saturday 03:00, Friday's night
  CHECK_FALSE(windowOpen(night, {5, 22 * 60}));  // Saturday evening
  CHECK_FALSE(windowOpen(night, {0, 3 * 60}));   // Monday 03:00 follows Sunday
  UpdateWindow weekend = *strategy(R"({"waves":["10%"],"window":"Sat,Sun 00:00-24:00"})").window;
  CHECK(windowOpen(weekend, {6, 23 * 60 + 59}));
  CHECK_FALSE(windowOpen(weekend, {4, 12 * 60}));
  UpdateWindow wrap = *strategy(R"({"waves":["10%"],"window":"Sat-Mon 01:00-02:00"})").window;
  CHECK(wrap.days == ((1u << 5) | (1u << 6) | 1u));
  CHECK(strategy(R"({"waves":["10%"],"window":"daily 01:00-03:00"})").window->days == 0x7f);
}

TEST_CASE("a good update goes canary, share, whole with a gate between each") {
  Fleet f;
  RolloutPlan plan("vision", 4, 3, strategy(R"({"waves":["press-07","10%","50%","100%"]})"), f.now);
  RolloutStep step = plan.advance(f.inputs());
  REQUIRE(step.kind == RolloutStep::Kind::kWave);
  CHECK(step.staged.nodes == std::vector<std::string>{"press-07"});
  CHECK(step.staged.cutoff == 0);
  CHECK(plan.state().phase == RolloutPhase::kGating);

  // The canary has not applied yet: nothing moves.
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kNone);
  CHECK(plan.state().nodes.at("press-07").gate == NodeGate::kPending);
  f.runWave(plan, 4);
  f.now += 10 * kSecond;
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kNone);
  CHECK(plan.state().nodes.at("press-07").gate == NodeGate::kSoaking);
  CHECK(plan.soakLeftMs(f.now) == 60 * kSecond);
  f.now += 59 * kSecond;
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kNone);
  CHECK(plan.soakLeftMs(f.now) == 1 * kSecond);
  f.now += 1 * kSecond;
  step = plan.advance(f.inputs());  // soaked: the 10 % wave goes out in the same call
  REQUIRE(step.kind == RolloutStep::Kind::kWave);
  CHECK(plan.state().wave == 1);
  CHECK(step.staged.cutoff == cutoffForShare(1000));
  AppSpec probe;
  probe.name = "vision";
  probe.staged = step.staged;
  auto wave = waveNodes(probe, f.members);
  CHECK(std::count(wave.begin(), wave.end(), "press-07") == 1);
  CHECK(wave.size() >= 3);  // press-07 plus at least one per sub-group

  for (int w = 2; w <= 3; ++w) {
    f.runWave(plan, 4);
    plan.advance(f.inputs());
    f.now += 60 * kSecond;
    step = plan.advance(f.inputs());
    CHECK(plan.state().wave == w);
  }
  CHECK(step.kind == RolloutStep::Kind::kWhole);  // the 100 % wave drops `staged`
  f.runWave(plan, 4);
  for (auto& [n, r] : f.reports) r = GateReport{true, 4, AppPhase::kRunning, true, 0};
  for (const WaveMember& m : f.members)
    f.reports[m.node] = GateReport{true, 4, AppPhase::kRunning, true, 0};
  plan.advance(f.inputs());
  CHECK(plan.state().phase == RolloutPhase::kGating);
  f.now += 60 * kSecond;
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kNone);
  CHECK(plan.state().phase == RolloutPhase::kComplete);
  CHECK(plan.finished());
}

TEST_CASE("a crashing canary pauses the rollout, naming the node and why") {
  Fleet f;
  RolloutPlan plan("vision", 4, 3, strategy(R"({"waves":["press-07","100%"]})"), f.now);
  plan.advance(f.inputs());
  f.reports["press-07"] = GateReport{true, 4, AppPhase::kCrashLoop, false, 3};
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kNone);
  CHECK(plan.state().phase == RolloutPhase::kPaused);
  CHECK(plan.state().reason.find("press-07: CrashLoop") != std::string::npos);
  CHECK(plan.state().wave == 0);
  // Paused: nothing moves whatever the reports say.
  f.reports["press-07"] = GateReport{true, 4, AppPhase::kRunning, true, 3};
  f.now += 600 * kSecond;
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kNone);
  CHECK(plan.state().phase == RolloutPhase::kPaused);
}

TEST_CASE("with on_failure rollback a failed gate returns the wave to the previous revision") {
  Fleet f;
  RolloutPlan plan("vision", 4, 3,
                   strategy(R"({"waves":["press-07","100%"],"on_failure":"rollback"})"), f.now);
  plan.advance(f.inputs());
  f.reports["press-07"] = GateReport{true, 4, AppPhase::kFailed, false, 0};
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kRollback);
  CHECK(plan.state().phase == RolloutPhase::kRolledBack);
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kNone);
}

TEST_CASE("a restart during the soak fails the node; max_failed tolerates it") {
  Fleet f;
  RolloutPlan strict("vision", 4, 3, strategy(R"({"waves":["press-07","100%"]})"), f.now);
  strict.advance(f.inputs());
  f.reports["press-07"] = GateReport{true, 4, AppPhase::kRunning, true, 2};
  strict.advance(f.inputs());
  f.now += 30 * kSecond;
  f.reports["press-07"] = GateReport{true, 4, AppPhase::kRunning, true, 3};  // Docker restarted it
  strict.advance(f.inputs());
  CHECK(strict.state().phase == RolloutPhase::kPaused);
  CHECK(strict.state().reason.find("restarted 1 time(s)") != std::string::npos);

  Fleet g;
  RolloutPlan tolerant(
      "vision", 4, 3,
      strategy(R"({"waves":[["press-07","press-08"],"100%"],"gate":{"max_failed":1}})"), g.now);
  tolerant.advance(g.inputs());
  g.reports["press-07"] = GateReport{true, 4, AppPhase::kCrashLoop, false, 5};
  g.reports["press-08"] = GateReport{true, 4, AppPhase::kRunning, true, 0};
  tolerant.advance(g.inputs());
  CHECK(tolerant.state().phase == RolloutPhase::kGating);
  g.now += 60 * kSecond;
  CHECK(tolerant.advance(g.inputs()).kind == RolloutStep::Kind::kWhole);
}

TEST_CASE("NotReady counts as not passed and the timeout fails the gate") {
  Fleet f;
  RolloutPlan plan("vision", 4, 3, strategy(R"({"waves":["press-07","100%"]})"), f.now);
  plan.advance(f.inputs());
  f.reports["press-07"] = GateReport{true, 4, AppPhase::kRunning, true, 0};
  plan.advance(f.inputs());
  f.now += 30 * kSecond;
  f.reports["press-07"] = GateReport{false, 4, AppPhase::kRunning, true, 0};  // cut off mid-soak
  plan.advance(f.inputs());
  CHECK(plan.state().nodes.at("press-07").gate == NodeGate::kNotReady);
  f.now += 60 * kSecond;
  f.reports["press-07"] = GateReport{true, 4, AppPhase::kRunning, true, 0};
  plan.advance(f.inputs());  // back: the soak starts again
  CHECK(plan.state().nodes.at("press-07").gate == NodeGate::kSoaking);
  f.reports["press-07"] = GateReport{false, 4, AppPhase::kRunning, true, 0};
  f.now = plan.state().wave_started_ms + 15 * 60 * kSecond;
  plan.advance(f.inputs());
  CHECK(plan.state().phase == RolloutPhase::kPaused);
  CHECK(plan.state().reason.find("timed out after 900 s") != std::string::npos);
  CHECK(plan.state().reason.find("press-07: node not Ready") != std::string::npos);
}

TEST_CASE("a wave waits for its window; a window in the future holds it") {
  Fleet f;
  f.local = {2, 12 * 60};  // Wednesday noon
  RolloutPlan plan("vision", 4, 3,
                   strategy(R"({"waves":["press-07","100%"],"window":"Sat,Sun 00:00-24:00"})"),
                   f.now);
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kNone);
  CHECK(plan.state().phase == RolloutPhase::kWaiting);
  CHECK(plan.state().reason == "waiting for the update window");
  f.local = {5, 0};
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kWave);
  f.runWave(plan, 4);
  plan.advance(f.inputs());
  f.now += 60 * kSecond;
  f.local = {0, 0};  // Monday: the gate passed, the next wave waits again
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kNone);
  CHECK(plan.state().phase == RolloutPhase::kWaiting);
  CHECK(plan.state().wave == 1);
}

TEST_CASE("pause, resume, promote, abort") {
  Fleet f;
  RolloutPlan plan("vision", 4, 3, strategy(R"({"waves":["press-07","50%","100%"]})"), f.now);
  plan.advance(f.inputs());
  REQUIRE(plan.pause(f.now).isOk());
  CHECK(plan.pause(f.now).code() == Code::kConflict);
  f.runWave(plan, 4);
  f.now += 120 * kSecond;
  CHECK(plan.advance(f.inputs()).kind == RolloutStep::Kind::kNone);
  REQUIRE(plan.resume(f.now).isOk());
  CHECK(plan.resume(f.now).code() == Code::kConflict);
  plan.advance(f.inputs());  // a fresh gate: the soak starts at resume
  CHECK(plan.state().nodes.at("press-07").gate == NodeGate::kSoaking);

  auto promoted = plan.promote(f.now);
  REQUIRE(promoted.isOk());
  CHECK(promoted->kind == RolloutStep::Kind::kWhole);
  CHECK(plan.state().phase == RolloutPhase::kComplete);
  CHECK(plan.abort(f.now).status().code() == Code::kConflict);

  RolloutPlan other("vision", 5, 4, strategy(R"({"waves":["press-07","100%"]})"), f.now);
  other.advance(f.inputs());
  auto aborted = other.abort(f.now);
  REQUIRE(aborted.isOk());
  CHECK(aborted->kind == RolloutStep::Kind::kRollback);
  CHECK(other.state().phase == RolloutPhase::kAborted);
  CHECK(other.resume(f.now).code() == Code::kConflict);
  CHECK(other.pause(f.now).code() == Code::kConflict);
}

TEST_CASE("the state survives a JSON round trip at any point, and continues the same") {
  Fleet f;
  RolloutPlan plan("vision", 4, 3,
                   strategy(R"({"waves":["press-07","10%","100%"],"gate":{"soak":30},
                                "window":"daily 00:00-24:00"})"),
                   f.now);
  for (int i = 0; i < 12; ++i) {
    auto stored = rolloutStateFromJson(Json::parse(dumpJson(toJson(plan.state()))));
    REQUIRE_MESSAGE(stored.isOk(), stored.status().message());
    CHECK(*stored == plan.state());
    RolloutPlan restored(*stored);
    f.runWave(plan, 4);
    RolloutStep a = plan.advance(f.inputs());
    RolloutStep b = restored.advance(f.inputs());
    CHECK(a.kind == b.kind);
    CHECK(a.staged == b.staged);
    CHECK(restored.state() == plan.state());
    f.now += 20 * kSecond;
  }
  CHECK(plan.state().phase == RolloutPhase::kComplete);
}

TEST_CASE("a stored state that is damaged is refused, not trusted") {
  Fleet f;
  RolloutPlan plan("vision", 4, 3, strategy(R"({"waves":["press-07","100%"]})"), f.now);
  Json good = toJson(plan.state());
  Json bad = good;
  bad["phase"] = "exploded";
  CHECK_FALSE(rolloutStateFromJson(bad).isOk());
  bad = good;
  bad["wave"] = 7;
  CHECK_FALSE(rolloutStateFromJson(bad).isOk());
  bad = good;
  bad["strategy"]["waves"] = Json::array();
  CHECK_FALSE(rolloutStateFromJson(bad).isOk());
  CHECK_FALSE(rolloutStateFromJson(Json::array()).isOk());
}

}  // namespace
}  // namespace pharos::anchor
