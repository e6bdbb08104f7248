// State reports: the first change after a quiet period is published state_settle after it
// (a fan-out's "applied" is not held back by the whole debounce), while a burst of changes
// still yields at most one publish per state_debounce window; while the reconciler works on
// a change (a pull) the report waits for it, at most state_hold.
#include <doctest/doctest.h>

#include "agent_rig.h"

namespace pharos::agent {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the shared rig
using std::chrono::milliseconds;

size_t statePublishes(Rig& rig) {
  return rig.broker.published(topics::node(kNode, topics::NodeTopic::kState)).size();
}

void deliver(Rig& rig, const DesiredDoc& doc) {
  rig.broker.publish(MqttMessage{topics::node(kNode, topics::NodeTopic::kDesired),
                                 dumpJson(encode(doc)), 1, true, "", ""});
  rig.pump();
}

TEST_CASE("the first state change after a quiet period is reported after state_settle") {
  Rig rig;
  rig.options.state_settle = milliseconds(20);
  rig.options.state_debounce = milliseconds(200);
  rig.boot();
  rig.advance(milliseconds(1000));
  rig.broker.clearLog();
  deliver(rig, nodeDoc(1, {app("web")}));
  CHECK(statePublishes(rig) == 0);  // the reconcile step's changes coalesce first
  rig.advance(milliseconds(20));
  REQUIRE(statePublishes(rig) == 1);
  Json st = rig.state();
  REQUIRE(st["apps"].size() == 1);
  CHECK(st["apps"][0]["phase"] == "Running");
}

TEST_CASE("a burst of state changes is published at most once per debounce window") {
  Rig rig;
  rig.options.state_settle = milliseconds(20);
  rig.options.state_debounce = milliseconds(200);
  rig.boot();
  rig.advance(milliseconds(1000));
  rig.broker.clearLog();
  deliver(rig, nodeDoc(1, {app("a")}));
  rig.advance(milliseconds(20));
  REQUIRE(statePublishes(rig) == 1);
  // Ten more changes within the window: nothing until the window ends, then one publish.
  for (int g = 2; g <= 11; ++g) {
    deliver(rig, nodeDoc(g, {app("a"), app("b" + std::to_string(g))}));
    rig.advance(milliseconds(10));
  }
  CHECK(statePublishes(rig) == 1);
  rig.advance(milliseconds(100));
  CHECK(statePublishes(rig) == 2);
  Json st = rig.state();
  CHECK(st["applied"][0]["generation"] == 11);
  rig.advance(milliseconds(1000));
  CHECK(statePublishes(rig) == 2);  // nothing changed since
  // Quiet again: the next change is reported after state_settle, not a whole window.
  deliver(rig, nodeDoc(12, {app("a")}));
  rig.advance(milliseconds(20));
  CHECK(statePublishes(rig) == 3);
}

// The first state publish after `doc`, stepping the clock 10 ms at a time (at most 10 s):
// its time since the delivery and the app's phase in it.
std::pair<milliseconds, std::string> firstReport(Rig& rig, const DesiredDoc& doc) {
  rig.broker.clearLog();
  deliver(rig, doc);
  for (milliseconds t(0); t < milliseconds(10'000); t += milliseconds(10)) {
    if (statePublishes(rig) > 0) {
      Json st = rig.state();
      std::string phase = st["apps"].empty() ? "" : st["apps"][0]["phase"].get<std::string>();
      return {t, phase};
    }
    rig.advance(milliseconds(10));
  }
  return {milliseconds(-1), ""};
}

TEST_CASE("a quick rollout (a short pull) is reported once: applied and running together") {
  Rig rig;
  rig.options.state_settle = milliseconds(20);
  rig.options.state_hold = milliseconds(1000);
  rig.options.reconciler.pull_jitter = milliseconds(500);  // the pull starts within 0.5 s
  rig.options.reconciler.seed = 7;
  rig.boot();
  rig.advance(milliseconds(1000));
  auto [at, phase] = firstReport(rig, nodeDoc(1, {app("web")}));
  CHECK(at > milliseconds(0));
  CHECK(at < milliseconds(600));
  CHECK(phase == "Running");
  rig.advance(milliseconds(2000));
  CHECK(statePublishes(rig) == 1);
}

TEST_CASE("a slow pull shows its progress after state_hold, then the result") {
  Rig rig;
  rig.options.state_settle = milliseconds(20);
  rig.options.state_hold = milliseconds(1000);
  rig.options.reconciler.pull_jitter = milliseconds(60'000);
  rig.options.reconciler.seed = 7;  // this seed's first delay is well over 1 s
  rig.boot();
  rig.advance(milliseconds(1000));
  auto [at, phase] = firstReport(rig, nodeDoc(1, {app("web")}));
  CHECK(at >= milliseconds(1000));
  CHECK(at <= milliseconds(1100));
  CHECK(phase == "Pulling");
  rig.advance(milliseconds(61'000));
  CHECK(statePublishes(rig) == 2);
  CHECK(rig.state()["apps"][0]["phase"] == "Running");
}

TEST_CASE("with state_hold 0 a report never waits for the reconciler") {
  Rig rig;
  rig.options.state_settle = milliseconds(20);
  rig.options.state_hold = milliseconds(0);
  rig.options.reconciler.pull_jitter = milliseconds(60'000);
  rig.options.reconciler.seed = 7;
  rig.boot();
  rig.advance(milliseconds(1000));
  auto [at, phase] = firstReport(rig, nodeDoc(1, {app("web")}));
  CHECK(at <= milliseconds(30));
  CHECK(phase == "Pulling");
}

}  // namespace
}  // namespace pharos::agent
