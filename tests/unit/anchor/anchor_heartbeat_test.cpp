// Agents' heartbeats (docs/anchor.md "Health"): a Ready node whose heartbeat stops for
// 1.5 x keep-alive turns NotReady with a recorded transition, and Ready again at the next
// heartbeat of its session; the session rule, Pending, Unreachable and NotReady statuses win;
// the anchor's own delays (late checks, dropped heartbeats, its link away, a line coming back)
// never time a node out. The rules on HeartbeatTracker itself first, then through the anchor.
#include "anchor/health.h"
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using std::chrono::milliseconds;
using topics::NodeTopic;

namespace {

constexpr int64_t kSession = 10;

NodeHealthRecord readyRecord(int64_t session = kSession) {
  NodeHealthRecord r;
  REQUIRE(acceptStatus(r, NodeStatus{Readiness::kReady, session, "", 0}));
  return r;
}

std::string beatPayload(int64_t session, int64_t keep_alive = 2) {
  return dumpJson(encode(NodeHeartbeat{session, keep_alive, 0}));
}

std::string healthState(AnchorFixture& f, const std::string& node) {
  auto h = f.retainedJson(topics::node(node, NodeTopic::kHealth));
  return h ? (*h)["state"].get<std::string>() : std::string();
}

std::string healthReason(AnchorFixture& f, const std::string& node) {
  auto h = f.retainedJson(topics::node(node, NodeTopic::kHealth));
  return h ? (*h)["reason"].get<std::string>() : std::string();
}

void beat(AnchorFixture& f, const std::string& node, int64_t session, int64_t keep_alive = 2) {
  f.publishAs(node, NodeTopic::kHeartbeat, beatPayload(session, keep_alive), false);
}

// An agent that beats every `every` while `f` advances by `total`.
void beatFor(AnchorFixture& f, const std::string& node, milliseconds every, milliseconds total) {
  for (milliseconds t{0}; t < total; t += every) {
    beat(f, node, kSession);
    f.advance(every);
  }
}

}  // namespace

TEST_CASE("a heartbeat deadline is 1.5 x keep-alive; a timeout ends at the next beat") {
  HeartbeatTracker t;
  NodeHealthRecord r = readyRecord();
  CHECK(t.beat("n", NodeHeartbeat{kSession, 2, 0}, r, 1000) == HeartbeatTracker::Beat::kWatched);
  CHECK(t.expire(3999).empty());
  CHECK(t.expire(4000) == std::vector<std::string>{"n"});
  CHECK(t.watched() == 0);  // unwatched until the next beat
  CHECK(t.timeoutReason("n", r) == "heartbeat timeout (no heartbeat for 3.0 s, keep-alive 2 s)");
  CHECK(updateVerdict(r, Registration::kAccepted, 4000, "", t.timeoutReason("n", r)) ==
        HealthChange::kTransition);
  CHECK(r.health.state == Readiness::kNotReady);
  CHECK(r.history.back().reason.find("heartbeat timeout") == 0);
  CHECK(t.beat("n", NodeHeartbeat{kSession, 2, 0}, r, 5000) == HeartbeatTracker::Beat::kRevived);
  CHECK(t.timeoutReason("n", r).empty());
  CHECK(updateVerdict(r, Registration::kAccepted, 5000, "", t.timeoutReason("n", r)) ==
        HealthChange::kTransition);
  CHECK(r.health.state == Readiness::kReady);
}

TEST_CASE("keep-alives outside 1..3600 s are clamped") {
  HeartbeatTracker t;
  NodeHealthRecord r = readyRecord();
  (void)t.beat("big", NodeHeartbeat{kSession, 65535, 0}, r, 0);
  CHECK(t.expire(5'399'999).empty());
  CHECK(t.expire(5'400'000) == std::vector<std::string>{"big"});
  (void)t.beat("tiny", NodeHeartbeat{kSession, 0, 0}, r, 0);  // decoders refuse 0; clamp anyway
  CHECK(t.expire(1500) == std::vector<std::string>{"tiny"});
}

TEST_CASE("the session rule applies to heartbeats and a newer session ends a timeout") {
  HeartbeatTracker t;
  NodeHealthRecord r = readyRecord(20);
  // A heartbeat of an older connection is ignored and watches nothing.
  CHECK(t.beat("n", NodeHeartbeat{19, 2, 0}, r, 0) == HeartbeatTracker::Beat::kIgnored);
  CHECK(t.nodes() == 0);
  CHECK(t.beat("n", NodeHeartbeat{20, 2, 0}, r, 0) == HeartbeatTracker::Beat::kWatched);
  CHECK(t.expire(3000).size() == 1);
  CHECK_FALSE(t.timeoutReason("n", r).empty());
  // The agent restarted: its new Ready session ends the old watch and its timeout.
  REQUIRE(acceptStatus(r, NodeStatus{Readiness::kReady, 21, "", 0}));
  t.onStatus("n", 21);
  CHECK(t.nodes() == 0);
  CHECK(t.timeoutReason("n", r).empty());
  // A status of the same session keeps the watch.
  CHECK(t.beat("n", NodeHeartbeat{21, 2, 0}, r, 4000) == HeartbeatTracker::Beat::kWatched);
  t.onStatus("n", 21);
  CHECK(t.watched() == 1);
}

TEST_CASE("a heartbeat timeout never overrides Pending, Unreachable or a NotReady status") {
  HeartbeatTracker t;
  NodeHealthRecord r = readyRecord();
  (void)t.beat("n", NodeHeartbeat{kSession, 2, 0}, r, 0);
  (void)t.expire(3000);
  const std::string reason = t.timeoutReason("n", r);
  REQUIRE_FALSE(reason.empty());
  (void)updateVerdict(r, Registration::kPending, 1, "", reason);
  CHECK(r.health.state == Readiness::kPending);
  (void)updateVerdict(r, Registration::kAccepted, 2, "bridge b down", reason);
  CHECK(r.health.state == Readiness::kUnreachable);
  // The will of the same session: NotReady for the will's reason, and a heartbeat of that
  // session (a frozen agent resumed after its connection was closed) does not revive it.
  REQUIRE(acceptStatus(r, NodeStatus{Readiness::kNotReady, kSession, "connection lost", 0}));
  (void)updateVerdict(r, Registration::kAccepted, 3, "", t.timeoutReason("n", r));
  CHECK(r.health.state == Readiness::kNotReady);
  CHECK(r.health.reason == "connection lost");
  CHECK(t.beat("n", NodeHeartbeat{kSession, 2, 0}, r, 4) == HeartbeatTracker::Beat::kRevived);
  (void)updateVerdict(r, Registration::kAccepted, 4, "", t.timeoutReason("n", r));
  CHECK(r.health.state == Readiness::kNotReady);
  CHECK(r.health.reason == "connection lost");
}

TEST_CASE("deadlines move forward all at once, or restart from now") {
  HeartbeatTracker t;
  NodeHealthRecord r = readyRecord();
  (void)t.beat("a", NodeHeartbeat{kSession, 2, 0}, r, 0);   // deadline 3000
  (void)t.beat("b", NodeHeartbeat{kSession, 10, 0}, r, 0);  // deadline 15000
  t.postponeAll(1000);
  CHECK(t.expire(3999).empty());
  CHECK(t.expire(4000) == std::vector<std::string>{"a"});
  (void)t.beat("a", NodeHeartbeat{kSession, 2, 0}, r, 4000);  // deadline 7000
  t.restartAll(6000);                                         // a: 9000, b: max(16000, 21000)
  CHECK(t.expire(8999).empty());
  CHECK(t.expire(9000) == std::vector<std::string>{"a"});
  CHECK(t.expire(20999).empty());
  CHECK(t.restart("a", 20000));  // a timeout cleared: deadline 23000
  CHECK(t.timeoutReason("a", r).empty());
  CHECK(t.expire(21000) == std::vector<std::string>{"b"});
  CHECK(t.expire(23000) == std::vector<std::string>{"a"});
  t.forget("a");
  CHECK(t.nodes() == 1);
  CHECK_FALSE(t.restart("a", 0));
}

TEST_CASE("a node whose heartbeats stop turns NotReady after 1.5 x keep-alive, Ready at the next") {
  AnchorFixture f;
  f.nodeOnline("n1", kSession);
  f.nodeOnline("old", kSession);  // an agent without heartbeats: will only, as before
  beatFor(f, "n1", milliseconds(1000), milliseconds(10'000));
  CHECK(healthState(f, "n1") == "Ready");
  // The last beat was at t0 - 1 s: the deadline is t0 + 2 s, checked every 250 ms.
  f.advance(milliseconds(1900));
  CHECK(healthState(f, "n1") == "Ready");
  f.advance(milliseconds(400));
  CHECK(healthState(f, "n1") == "NotReady");
  CHECK(healthReason(f, "n1").find("heartbeat timeout (no heartbeat for 3.") == 0);
  CHECK(healthReason(f, "n1").find("keep-alive 2 s") != std::string::npos);
  CHECK(healthState(f, "old") == "Ready");
  Json node = f.ok("node.get", {{"name", "n1"}});
  CHECK(node["history"].back()["state"] == "NotReady");
  // SIGCONT: the next heartbeat of the session makes it Ready at once.
  beat(f, "n1", kSession);
  CHECK(healthState(f, "n1") == "Ready");
  node = f.ok("node.get", {{"name", "n1"}});
  CHECK(node["history"].back()["state"] == "Ready");
  // A heartbeat of an older session does not revive a timed-out node.
  f.advance(milliseconds(3300));
  CHECK(healthState(f, "n1") == "NotReady");
  beat(f, "n1", kSession - 1);
  CHECK(healthState(f, "n1") == "NotReady");
  f.advance(milliseconds(60'000));
  CHECK(healthState(f, "old") == "Ready");
}

TEST_CASE("a will after a heartbeat timeout wins, and the reconnected agent is Ready again") {
  AnchorFixture f;
  MqttLink& link = f.nodeOnline("n1", kSession);
  beat(f, "n1", kSession);
  f.advance(milliseconds(3300));
  CHECK(healthReason(f, "n1").find("heartbeat timeout") == 0);
  f.broker().kill("n1");  // the broker's keep-alive scan finally fires the will
  f.pump();
  CHECK(healthState(f, "n1") == "NotReady");
  CHECK(healthReason(f, "n1") == "connection lost");
  beat(f, "n1", kSession);  // relayed late: never overrides the will of its session
  CHECK(healthState(f, "n1") == "NotReady");
  // The process resumes and reconnects with the same session: status, then a heartbeat.
  REQUIRE(link.connect().isOk());
  f.publishAs("n1", NodeTopic::kStatus, statusPayload(Readiness::kReady, kSession, "connected"));
  beat(f, "n1", kSession);
  CHECK(healthState(f, "n1") == "Ready");
}

TEST_CASE("malformed heartbeats are dropped; Pending and unknown nodes are not watched") {
  AnchorOptions config;
  config.require_approval = true;
  AnchorFixture f(config);
  f.nodeOnline("p1", kSession);
  CHECK(healthState(f, "p1") == "Pending");
  beat(f, "p1", kSession);
  f.advance(milliseconds(5000));
  CHECK(healthState(f, "p1") == "Pending");
  beat(f, "ghost", kSession);
  for (const char* bad : {"", "{", "[]", R"({"v":1,"session":10,"keep_alive":0,"ts":0})",
                          R"({"v":1,"session":"10","keep_alive":2,"ts":0})"}) {
    f.publishAs("p1", NodeTopic::kHeartbeat, bad, false);
  }
  f.advance(milliseconds(5000));
  CHECK(healthState(f, "p1") == "Pending");
  CHECK(f.retainedJson(topics::node("ghost", NodeTopic::kHealth)) == std::nullopt);
  // Approved: watched from its next heartbeat.
  f.ok("node.approve", {{"name", "p1"}});
  CHECK(healthState(f, "p1") == "Ready");
  beat(f, "p1", kSession);
  f.advance(milliseconds(3300));
  CHECK(healthState(f, "p1") == "NotReady");
}

TEST_CASE("a late check pushes the deadlines forward instead of timing nodes out") {
  AnchorFixture f;
  f.nodeOnline("n1", kSession);
  beat(f, "n1", kSession);
  f.advance(milliseconds(1000));
  beat(f, "n1", kSession);  // deadline t + 3 s
  // The anchor's loop stalls 5 s (a long task, the process stopped): the beats the agent sent
  // meanwhile are queued behind the check, which runs late and must not fire.
  f.clock().advance(milliseconds(5000));
  f.pump();
  CHECK(healthState(f, "n1") == "Ready");
  beat(f, "n1", kSession);
  CHECK(healthState(f, "n1") == "Ready");
  // A check on time still fires.
  f.advance(milliseconds(3300));
  CHECK(healthState(f, "n1") == "NotReady");
}

TEST_CASE("heartbeats dropped under back-pressure never time a node out") {
  AnchorOptions config;
  config.max_queued_messages = 0;  // anything queued behind another message is droppable
  AnchorFixture f(config);
  f.nodeOnline("n1", kSession);
  beat(f, "n1", kSession);  // deadline t0 + 3 s
  auto dropped_beat = [&] {
    // A status (never dropped) queued first, the heartbeat behind it is dropped.
    f.broker().publish(message(topics::node("n1", NodeTopic::kStatus),
                               statusPayload(Readiness::kReady, kSession, "connected"), true));
    f.broker().publish(message(topics::node("n1", NodeTopic::kHeartbeat), beatPayload(kSession)));
    f.pump();
  };
  for (int i = 0; i < 2; ++i) {
    f.advance(milliseconds(1000));
    dropped_beat();
  }
  f.advance(milliseconds(1000));  // t0 + 3 s: the deadline waited for the dropped beats
  CHECK(healthState(f, "n1") == "Ready");
  beat(f, "n1", kSession);
  CHECK(healthState(f, "n1") == "Ready");
  f.advance(milliseconds(3300));  // and a real silence still counts
  CHECK(healthState(f, "n1") == "NotReady");
}

TEST_CASE("the anchor's own link being away does not time nodes out") {
  AnchorFixture f;
  f.nodeOnline("n1", kSession);
  beat(f, "n1", kSession);
  f.broker().setOnline("pharos-anchor", false);
  f.advance(milliseconds(5000));
  f.broker().setOnline("pharos-anchor", true);
  f.pump();
  CHECK(healthState(f, "n1") == "Ready");
  f.advance(milliseconds(2500));
  CHECK(healthState(f, "n1") == "Ready");
  beat(f, "n1", kSession);
  f.advance(milliseconds(2500));
  CHECK(healthState(f, "n1") == "Ready");
  f.advance(milliseconds(800));
  CHECK(healthState(f, "n1") == "NotReady");
}

TEST_CASE("behind a down bridge a node is Unreachable, and gets a whole deadline when it returns") {
  AnchorOptions config;
  config.bridges["bridge-line-a"] = {"tcp://127.0.0.1:1884"};
  config.line_heartbeat_timeout = milliseconds(0);
  AnchorFixture f(config);
  NodeInfo info;
  info.agent_version = "0.1.0";
  info.hostname = "a1";
  info.broker = "tcp://127.0.0.1:1884";
  f.publishAs("a1", NodeTopic::kInfo, dumpJson(encode(info)));
  f.publishAs("a1", NodeTopic::kStatus, statusPayload(Readiness::kReady, kSession));
  f.broker().publish(message("$SYS/broker/connection/bridge-line-a/state", "1", true));
  f.pump();
  beat(f, "a1", kSession);
  f.broker().publish(message("$SYS/broker/connection/bridge-line-a/state", "0", true));
  f.pump();
  f.advance(milliseconds(10'000));  // no heartbeat crosses a down bridge
  CHECK(healthState(f, "a1") == "Unreachable");
  f.broker().publish(message("$SYS/broker/connection/bridge-line-a/state", "1", true));
  f.pump();
  CHECK(healthState(f, "a1") == "Ready");
  f.advance(milliseconds(2800));
  CHECK(healthState(f, "a1") == "Ready");
  f.advance(milliseconds(500));  // still silent a whole 1.5 x keep-alive after the return
  CHECK(healthState(f, "a1") == "NotReady");
}
