// Untrusted input the broker lets through (guards.cpp): sessions far ahead of the anchor's
// clock (ignored, counted, healed in a stored record), retained requests (neither run nor
// kept), and names reserved for other kinds of broker account (never registered as nodes).
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

namespace {
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kAbsurd = 9223372036854775807;

std::string healthState(AnchorFixture& f, const std::string& node) {
  auto doc = f.retainedJson(topics::node(node, NodeTopic::kHealth));
  return doc ? (*doc)["state"].get<std::string>() : std::string();
}
}  // namespace

TEST_CASE("a status whose session is far ahead of the clock is ignored and counted") {
  AnchorFixture f;
  int64_t now = f.clock().nowMs();
  f.nodeOnline("n1", now);
  REQUIRE(healthState(f, "n1") == "Ready");
  f.publishAs("n1", NodeTopic::kStatus, statusPayload(Readiness::kReady, kAbsurd));
  CHECK(f.anchor().securityCount("session_ahead") == 1);
  // The real session still rules: its NotReady (the will) is not hidden.
  f.publishAs("n1", NodeTopic::kStatus,
              statusPayload(Readiness::kNotReady, now, "connection lost"));
  CHECK(healthState(f, "n1") == "NotReady");
  // A heartbeat of an absurd session is ignored too.
  f.publishAs("n1", NodeTopic::kHeartbeat,
              dumpJson(Json{{"v", 1}, {"session", kAbsurd}, {"keep_alive", 10}, {"ts", now}}),
              false);
  CHECK(f.anchor().securityCount("session_ahead") == 2);
  // Within the margin (a device clock a little ahead) is believed.
  f.publishAs("n1", NodeTopic::kStatus, statusPayload(Readiness::kReady, now + kHour / 2));
  CHECK(healthState(f, "n1") == "Ready");
}

TEST_CASE("a stored session far ahead of the clock is healed at start") {
  AnchorOptions lax;
  lax.max_session_ahead = std::chrono::milliseconds(30 * 24 * kHour);  // the old behaviour
  AnchorFixture f(lax);
  int64_t now = f.clock().nowMs();
  f.nodeOnline("n1", now);
  f.publishAs("n1", NodeTopic::kStatus, statusPayload(Readiness::kReady, now + 10 * 24 * kHour));
  f.advance(std::chrono::milliseconds(1000));  // health flushed to the store
  f.stopAnchor();
  f.config().max_session_ahead = std::chrono::milliseconds(kHour);
  f.startAnchor();
  CHECK(f.anchor().securityCount("session_healed") == 1);
  // The node's real will (its real session) is believed again.
  f.publishAs("n1", NodeTopic::kStatus,
              statusPayload(Readiness::kNotReady, now, "connection lost"));
  CHECK(healthState(f, "n1") == "NotReady");
}

TEST_CASE("a retained request is not run again, and is cleared") {
  AnchorFixture f;
  MqttMessage planted = message(topics::apiRequest("ops", "group.create"),
                                dumpJson(Json{{"v", 1}, {"name", "g1"}}), true);
  planted.response_topic = topics::replies("ops", "planted");
  f.broker().publish(planted);
  f.pump();
  f.ok("group.delete", Json{{"name", "g1"}});  // the live delivery ran once (FakeBroker)
  // A restarted anchor gets it from the retained store, flagged: not run, cleared.
  f.stopAnchor();
  f.startAnchor();
  CHECK_FALSE(f.anchor().registry().findGroup("g1"));
  CHECK(f.anchor().securityCount("retained_request") == 1);
  auto kept = f.broker().retained(planted.topic);
  CHECK((!kept || kept->payload.empty()));
  // The same for commands.
  f.broker().publish(message(topics::nodeCmd("n1", "logs"), R"({"v":1})", true));
  f.stopAnchor();
  f.startAnchor();
  auto cmd = f.broker().retained(topics::nodeCmd("n1", "logs"));
  CHECK((!cmd || cmd->payload.empty()));
}

TEST_CASE("a node never registers under a reserved account name") {
  AnchorFixture f;
  for (const char* name : {"anchor", "admin", "bridge-l1"}) {
    CAPTURE(name);
    f.publishAs(name, NodeTopic::kInfo, infoPayload(name));
    f.publishAs(name, NodeTopic::kStatus, statusPayload(Readiness::kReady, f.clock().nowMs()));
    CHECK_FALSE(f.anchor().registry().findNode(name));
    CHECK(f.errorCode("node.add", Json{{"name", name}}) == "already_exists");
  }
}
