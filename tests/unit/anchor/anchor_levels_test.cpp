// Health across a bridge (docs/levels.md): Mosquitto's retained bridge notifications on
// $SYS/broker/connection/<bridge>/state turn the nodes behind a down line broker Unreachable
// and back, matched by their info.broker (the `bridge` option, or the line name as host).
#include "anchor/health.h"
#include "anchor/options.h"
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

namespace {

std::string infoWithBroker(const std::string& host, const std::string& broker, int64_t ts = 0) {
  NodeInfo info;
  info.ts = ts;
  info.agent_version = "0.1.0";
  info.hostname = host;
  info.os = "linux";
  info.arch = "x86_64";
  info.broker = broker;
  return dumpJson(encode(info));
}

std::string healthState(AnchorFixture& f, const std::string& node) {
  auto h = f.retainedJson(topics::node(node, NodeTopic::kHealth));
  return h ? (*h)["state"].get<std::string>() : std::string();
}

void bridge(AnchorFixture& f, const std::string& name, const char* state) {
  f.broker().publish(message("$SYS/broker/connection/" + name + "/state", state, true));
  f.pump();
}

}  // namespace

TEST_CASE("a down bridge makes the nodes behind it Unreachable until it returns") {
  AnchorOptions config;
  config.bridges["bridge-line-a"] = {"tcp://127.0.0.1:1884"};
  AnchorFixture f(config);
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1884"));
  f.publishAs("a1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  f.publishAs("b1", NodeTopic::kInfo, infoWithBroker("b1", "tcp://127.0.0.1:1885"));
  f.publishAs("b1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  CHECK(healthState(f, "a1") == "Ready");
  bridge(f, "bridge-line-a", "0");
  CHECK(healthState(f, "a1") == "Unreachable");
  auto h = f.retainedJson(topics::node("a1", NodeTopic::kHealth));
  CHECK((*h)["reason"].get<std::string>().find("bridge-line-a") != std::string::npos);
  CHECK(healthState(f, "b1") == "Ready");
  // A Ready relayed late (queued on the line) does not hide the cut.
  f.publishAs("a1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 11));
  CHECK(healthState(f, "a1") == "Unreachable");
  bridge(f, "bridge-line-a", "1");
  CHECK(healthState(f, "a1") == "Ready");
  // What the node reported while cut decides after the bridge returns.
  bridge(f, "bridge-line-a", "0");
  f.publishAs("a1", NodeTopic::kStatus, statusPayload(Readiness::kNotReady, 11, "engine down"));
  bridge(f, "bridge-line-a", "1");
  CHECK(healthState(f, "a1") == "NotReady");
}

TEST_CASE("a node that moves to another line loses its identity on the old one") {
  AnchorOptions config;
  config.bridges["bridge-line-a"] = {"tcp://127.0.0.1:1884"};
  config.bridges["bridge-line-b"] = {"tcp://127.0.0.1:1885"};
  AnchorFixture f(config);
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1884"));
  f.publishAs("a1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  CHECK(f.admin().line_removed.empty());
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1885"));
  REQUIRE(f.admin().line_removed.size() == 1);
  CHECK(f.admin().line_removed[0] == std::make_pair(std::string("line-a"), std::string("a1")));
  CHECK(f.admin().line_acl["line-b"].count("a1"));
  CHECK(f.anchor().securityCount("line_identity_removed") == 1);
  // Back on the site broker: its identity on line-b goes too.
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1883"));
  REQUIRE(f.admin().line_removed.size() == 2);
  CHECK(f.admin().line_removed[1].first == "line-b");
}

TEST_CASE("a node moved while the anchor was down loses its identity on the old line at start") {
  AnchorOptions config;
  config.bridges["bridge-line-a"] = {"tcp://127.0.0.1:1884"};
  config.bridges["bridge-line-b"] = {"tcp://127.0.0.1:1885"};
  AnchorFixture f(config);
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1884"));
  f.publishAs("a1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  f.publishAs("s1", NodeTopic::kInfo, infoWithBroker("s1", "tcp://127.0.0.1:1883"));
  f.publishAs("s1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  bridge(f, "bridge-line-a", "1");
  bridge(f, "bridge-line-b", "1");
  CHECK(f.admin().line_reconciles["line-a"] == 1);
  CHECK(f.admin().line_plans["line-a"]().local_nodes.count("a1"));
  f.stopAnchor();
  // The node moves to line-b while the anchor is down; its new info waits retained.
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1885"));
  f.startAnchor();
  CHECK(f.admin().line_reconciles["line-a"] == 2);
  IdentityPlan a = f.admin().line_plans["line-a"]();
  CHECK(a.broker == "line broker line-a");
  CHECK(a.remote_nodes == std::set<std::string>{"a1", "s1"});
  CHECK(a.local_nodes.empty());
  IdentityPlan b = f.admin().line_plans["line-b"]();
  CHECK(b.local_nodes.count("a1"));
  CHECK(b.remote_nodes == std::set<std::string>{"s1"});
}

TEST_CASE("an old line's retained copy of a moved node's info does not move it back") {
  AnchorOptions config;
  config.bridges["bridge-line-a"] = {"tcp://127.0.0.1:1884"};
  config.bridges["bridge-line-b"] = {"tcp://127.0.0.1:1885"};
  AnchorFixture f(config);
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1884", 1000));
  f.publishAs("a1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1885", 2000));
  REQUIRE(f.admin().line_removed.size() == 1);
  // line-a's bridge connects again and its broker sends the info it kept from before the move.
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1884", 1000));
  CHECK(f.admin().line_removed.size() == 1);  // not removed from line-b, where it lives
  CHECK(f.anchor().securityCount("stale_info") == 1);
  CHECK(f.request("node.get", Json{{"name", "a1"}})["result"]["info"]["broker"] ==
        "tcp://127.0.0.1:1885");
  // A newer info from line-a is a real move back.
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1884", 3000));
  REQUIRE(f.admin().line_removed.size() == 2);
  CHECK(f.admin().line_removed[1].first == "line-b");
}

TEST_CASE("a line's identities are reconciled once per process, again after a failure") {
  AnchorOptions config;
  config.bridges["line-a"] = {"tcp://127.0.0.1:1884"};
  AnchorFixture f(config);
  f.admin().line_reconcile_fail = Status::unavailable("bridge cut");
  bridge(f, "bridge-line-a", "1");
  CHECK(f.admin().line_reconciles["line-a"] == 1);
  bridge(f, "bridge-line-a", "0");
  f.admin().line_reconcile_fail.reset();
  f.admin().line_reconcile_result.identities_removed = 1;
  f.admin().line_reconcile_result.changes = {"node a1: removed"};
  bridge(f, "bridge-line-a", "1");
  CHECK(f.admin().line_reconciles["line-a"] == 2);
  CHECK(f.anchor().securityCount("line_identity_removed") == 1);
  CHECK(f.anchor().securityCount("identity_changes") == 1);
  bridge(f, "bridge-line-a", "0");
  bridge(f, "bridge-line-a", "1");
  CHECK(f.admin().line_reconciles["line-a"] == 2);
  // A bridge the configuration does not name is not reconciled (its nodes are guessed).
  bridge(f, "bridge-line-x", "1");
  CHECK(f.admin().line_reconciles.count("line-x") == 0);
}

TEST_CASE("without a bridge option the line name matches the broker host") {
  AnchorFixture f;
  f.publishAs("c1", NodeTopic::kInfo, infoWithBroker("c1", "ssl://line-c.plant.local:8883"));
  f.publishAs("c1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  f.publishAs("d1", NodeTopic::kInfo, infoWithBroker("d1", "tcp://line-cd:1883"));
  f.publishAs("d1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  bridge(f, "bridge-line-c", "0");
  CHECK(healthState(f, "c1") == "Unreachable");
  CHECK(healthState(f, "d1") == "Ready");
  bridge(f, "bridge-line-c", "garbage");
  CHECK(healthState(f, "c1") == "Unreachable");
  bridge(f, "bridge-line-c", "1");
  CHECK(healthState(f, "c1") == "Ready");
}

TEST_CASE("the verdict prefers Pending, then Unreachable, over the last status") {
  NodeHealthRecord r;
  CHECK(acceptStatus(r, NodeStatus{Readiness::kReady, 10, "", 0}));
  CHECK(updateVerdict(r, Registration::kAccepted, 5, "bridge x down") == HealthChange::kTransition);
  CHECK(r.health.state == Readiness::kUnreachable);
  CHECK(r.health.reason == "bridge x down");
  CHECK(updateVerdict(r, Registration::kPending, 6, "bridge x down") == HealthChange::kTransition);
  CHECK(r.health.state == Readiness::kPending);
  CHECK(updateVerdict(r, Registration::kAccepted, 7) == HealthChange::kTransition);
  CHECK(r.health.state == Readiness::kReady);
}

TEST_CASE("--bridge NAME=URL[,URL] fills the bridge map; a malformed one is refused") {
  std::vector<const char*> argv = {"pharos-anchor", "--bridge",
                                   "bridge-line-a=tcp://a:1883,ssl://a:8883", "--bridge",
                                   "line-b=tcp://b:1883"};
  auto r = parseAnchorCommandLine(static_cast<int>(argv.size()), argv.data());
  REQUIRE(r.isOk());
  CHECK(r->options.core.bridges.at("bridge-line-a") ==
        std::vector<std::string>{"tcp://a:1883", "ssl://a:8883"});
  CHECK(r->options.core.bridges.at("line-b") == std::vector<std::string>{"tcp://b:1883"});
  std::vector<const char*> bad = {"pharos-anchor", "--bridge", "no-url"};
  CHECK_FALSE(parseAnchorCommandLine(static_cast<int>(bad.size()), bad.data()).isOk());
}

TEST_CASE("a line whose heartbeat stops turns its nodes Unreachable before the bridge times out") {
  AnchorOptions config;
  config.bridges["bridge-line-a"] = {"tcp://127.0.0.1:1884"};
  config.line_heartbeat_timeout = std::chrono::milliseconds(5000);
  AnchorFixture f(config);
  bridge(f, "bridge-line-a", "1");
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1884"));
  f.publishAs("a1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  f.publishAs("b1", NodeTopic::kInfo, infoWithBroker("b1", "tcp://127.0.0.1:1885"));
  f.publishAs("b1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  auto beat = [&](const char* uptime) {
    f.broker().publish(message(topics::lineHeartbeat("line-a"), uptime));
    f.pump();
  };
  // Beats every 2 s keep the line's nodes Ready.
  for (int i = 0; i < 5; ++i) {
    beat("2 seconds");
    f.advance(std::chrono::milliseconds(2000));
    CHECK(healthState(f, "a1") == "Ready");
  }
  // Silence: Unreachable once the timeout has passed (checked every timeout / 10), not before.
  f.advance(std::chrono::milliseconds(2500));
  CHECK(healthState(f, "a1") == "Ready");
  f.advance(std::chrono::milliseconds(1100));
  CHECK(healthState(f, "a1") == "Unreachable");
  auto h = f.retainedJson(topics::node("a1", NodeTopic::kHealth));
  CHECK((*h)["reason"].get<std::string>().find("silent") != std::string::npos);
  CHECK(healthState(f, "b1") == "Ready");
  // The next beat brings it back; a bridge notification "0" still wins over beats.
  beat("20 seconds");
  CHECK(healthState(f, "a1") == "Ready");
  bridge(f, "bridge-line-a", "0");
  beat("22 seconds");
  CHECK(healthState(f, "a1") == "Unreachable");
}

TEST_CASE("without heartbeats, or with them turned off, a line is never called silent") {
  AnchorOptions config;
  config.bridges["bridge-line-a"] = {"tcp://127.0.0.1:1884"};
  config.line_heartbeat_timeout = std::chrono::milliseconds(0);
  AnchorFixture f(config);
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("a1", "tcp://127.0.0.1:1884"));
  f.publishAs("a1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  f.broker().publish(message(topics::lineHeartbeat("line-a"), "1 seconds"));
  f.advance(std::chrono::milliseconds(20000));
  CHECK(healthState(f, "a1") == "Ready");
}

TEST_CASE("--line-heartbeat-timeout takes seconds, 0 turns it off") {
  const char* argv[] = {"pharos-anchor", "--data-dir", "/tmp/x", "--line-heartbeat-timeout", "2.5"};
  auto cl = parseAnchorCommandLine(5, argv);
  REQUIRE(cl);
  CHECK(cl->options.core.line_heartbeat_timeout == std::chrono::milliseconds(2500));
  const char* off[] = {"pharos-anchor", "--data-dir", "/tmp/x", "--line-heartbeat-timeout", "0"};
  auto cl_off = parseAnchorCommandLine(5, off);
  REQUIRE(cl_off);
  CHECK(cl_off->options.core.line_heartbeat_timeout.count() == 0);
  const char* bad[] = {"pharos-anchor", "--data-dir", "/tmp/x", "--line-heartbeat-timeout", "0.5"};
  CHECK_FALSE(parseAnchorCommandLine(5, bad));
}
