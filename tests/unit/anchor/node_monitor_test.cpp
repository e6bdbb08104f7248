// NodeMonitor (node_monitor.h) with no MQTT: an info and a status together register a node,
// either alone does not; a removed node's reports are ignored until the quarantine ends or an
// operator enrols it again; events are rate-limited per node; metrics and state reports are
// kept for node.get; malformed reports are dropped.
#include "anchor/node_monitor.h"

#include <doctest/doctest.h>

#include "node_monitor_rig.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using std::chrono::milliseconds;

namespace {

void report(MonitorRig& r, const std::string& node) {
  r.monitor.onInfo(node, infoPayload(node));
  r.monitor.onStatus(node, statusPayload(Readiness::kReady, kSession));
}

// An operator removed the node (node.remove): out of the registry, then out of the monitor.
void removeNode(MonitorRig& r, const std::string& node) {
  Txn txn(r.reg);
  txn.eraseNode(node);
  REQUIRE(r.publisher.commit(txn).isOk());
  r.monitor.removed(node);
}

std::string eventPayload(const std::string& kind) {
  NodeEvent e;
  e.kind = kind;
  e.app = "web";
  e.ts = 5;
  return dumpJson(encode(e));
}

}  // namespace

TEST_CASE("an info and a status together register a node, accepted and Ready") {
  MonitorRig r;
  report(r, "n1");
  const NodeRecord* node = r.reg.findNode("n1");
  REQUIRE(node);
  CHECK(node->registration == Registration::kAccepted);
  CHECK(node->added_by == "auto");
  CHECK_FALSE(node->public_key.empty());  // trusted on first sight
  CHECK(r.healthOf("n1") == Readiness::kReady);
}

TEST_CASE("an info or a status alone registers nothing") {
  MonitorRig r;
  r.monitor.onInfo("n1", infoPayload("n1"));
  r.monitor.onStatus("n2", statusPayload(Readiness::kReady, kSession));
  CHECK_FALSE(r.reg.findNode("n1"));
  CHECK_FALSE(r.reg.findNode("n2"));
}

TEST_CASE("with approval required a new node registers as pending") {
  MonitorRig r;
  r.config.require_approval = true;
  report(r, "n1");
  REQUIRE(r.reg.findNode("n1"));
  CHECK(r.reg.findNode("n1")->registration == Registration::kPending);
}

TEST_CASE("malformed reports are dropped") {
  MonitorRig r;
  for (const char* bad : {"{", "[]", "not json"}) {
    r.monitor.onInfo("n1", bad);
    r.monitor.onStatus("n1", bad);
  }
  CHECK_FALSE(r.reg.findNode("n1"));
}

TEST_CASE("a removed node's reports are ignored until the quarantine ends") {
  MonitorRig r;
  report(r, "n1");
  removeNode(r, "n1");
  CHECK_FALSE(r.healthOf("n1"));
  report(r, "n1");
  CHECK_FALSE(r.reg.findNode("n1"));
  r.clock.advance(r.config.removed_quarantine);
  report(r, "n1");
  CHECK(r.reg.findNode("n1"));
}

TEST_CASE("an operator's enrolment lifts the quarantine at once") {
  MonitorRig r;
  report(r, "n1");
  removeNode(r, "n1");
  r.monitor.enrolled("n1");
  report(r, "n1");
  CHECK(r.reg.findNode("n1"));
}

TEST_CASE("a node's events beyond a burst of 50 are dropped, 5 a second come back") {
  MonitorRig r;
  report(r, "n1");
  size_t before = r.events.count();
  for (int i = 0; i < 60; ++i) r.monitor.onEvent("n1", eventPayload("container_died"));
  CHECK(r.events.count() - before == 50);
  r.clock.advance(milliseconds(1000));
  for (int i = 0; i < 10; ++i) r.monitor.onEvent("n1", eventPayload("container_died"));
  CHECK(r.events.count() - before == 55);
}

TEST_CASE("events of an unknown node are dropped") {
  MonitorRig r;
  size_t before = r.events.count();
  r.monitor.onEvent("ghost", eventPayload("container_died"));
  CHECK(r.events.count() == before);
}

TEST_CASE("metrics are kept without per-container figures; state reports are kept") {
  MonitorRig r;
  CHECK_FALSE(r.monitor.metrics("n1"));
  report(r, "n1");
  NodeMetrics m;
  m.cpu_percent = 12.5;
  m.mem_used = 1000;
  m.mem_total = 4000;
  r.monitor.onMetrics("n1", dumpJson(encode(m)));
  const Json* kept = r.monitor.metrics("n1");
  REQUIRE(kept);
  CHECK((*kept)["cpu_percent"] == 12.5);
  CHECK_FALSE(kept->contains("containers"));
  CHECK_FALSE(kept->contains("v"));

  CHECK_FALSE(r.monitor.reported("n1"));
  NodeState state;
  state.ts = 42;
  r.monitor.onState("n1", dumpJson(encode(state)));
  REQUIRE(r.monitor.reported("n1"));
  CHECK(r.monitor.reported("n1")->ts == 42);
}

TEST_CASE("a removed node's metrics and state are dropped") {
  MonitorRig r;
  report(r, "n1");
  NodeMetrics m;
  m.mem_total = 4000;
  r.monitor.onMetrics("n1", dumpJson(encode(m)));
  r.monitor.onState("n1", dumpJson(encode(NodeState{})));
  r.monitor.removed("n1");
  CHECK_FALSE(r.monitor.metrics("n1"));
  CHECK_FALSE(r.monitor.reported("n1"));
}
