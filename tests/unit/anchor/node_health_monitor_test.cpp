// NodeHealthMonitor (node_health_monitor.h) with no MQTT: a status gives a registered node its
// verdict, published and written at the next flush; a Ready node whose heartbeats stop turns
// NotReady and comes back at the next beat of its session; a forgotten node's record is
// neither kept nor written; health records marked changed are written at the next flush.
#include "anchor/node_health_monitor.h"

#include <doctest/doctest.h>

#include "node_monitor_rig.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using std::chrono::milliseconds;

namespace {

// A registered node whose agent reported Ready.
void readyNode(MonitorRig& r, const std::string& node) {
  r.addNode(node);
  NodeStatus ready{Readiness::kReady, kSession, "", kSession};
  r.health.applyHealth(node, &ready);
}

}  // namespace

TEST_CASE("a status gives a registered node its verdict, written at the next flush") {
  MonitorRig r;
  readyNode(r, "n1");
  CHECK(r.healthOf("n1") == Readiness::kReady);
  CHECK_FALSE(r.sent.empty());  // the health document
  CHECK_FALSE(r.storedHealth("n1"));
  r.advance(r.config.flush_interval);
  CHECK(r.storedHealth("n1"));
}

TEST_CASE("a node the registry does not know gets no verdict") {
  MonitorRig r;
  NodeStatus ready{Readiness::kReady, kSession, "", kSession};
  r.health.applyHealth("ghost", &ready);
  CHECK_FALSE(r.healthOf("ghost"));
  r.advance(r.config.flush_interval);
  CHECK_FALSE(r.storedHealth("ghost"));
}

TEST_CASE("a Ready node whose heartbeats stop turns NotReady, and Ready at the next beat") {
  MonitorRig r;
  readyNode(r, "n1");
  r.health.onHeartbeat("n1", beatPayload(kSession));
  r.advance(milliseconds(2900));
  CHECK(r.healthOf("n1") == Readiness::kReady);
  r.advance(milliseconds(200));  // 1.5 x 2 s keep-alive passed
  CHECK(r.healthOf("n1") == Readiness::kNotReady);
  CHECK(r.reg.health().at("n1").health.reason.find("heartbeat timeout") == 0);
  r.health.onHeartbeat("n1", beatPayload(kSession));
  CHECK(r.healthOf("n1") == Readiness::kReady);
}

TEST_CASE("heartbeats of an unknown node or an older session change nothing") {
  MonitorRig r;
  r.health.onHeartbeat("ghost", beatPayload(kSession));
  CHECK_FALSE(r.healthOf("ghost"));
  readyNode(r, "n1");
  r.health.onHeartbeat("n1", beatPayload(kSession - 1));
  r.advance(milliseconds(5000));
  CHECK(r.healthOf("n1") == Readiness::kReady);  // never watched
}

TEST_CASE("the anchor's own link being away never times a node out") {
  MonitorRig r;
  readyNode(r, "n1");
  r.health.onHeartbeat("n1", beatPayload(kSession));
  r.publisher.setConnected(false);
  r.advance(milliseconds(10'000));
  CHECK(r.healthOf("n1") == Readiness::kReady);
  r.publisher.setConnected(true);
  r.health.onAnchorConnected();
  r.advance(milliseconds(2900));
  CHECK(r.healthOf("n1") == Readiness::kReady);
}

TEST_CASE("a forgotten node's health record is neither kept nor written") {
  MonitorRig r;
  readyNode(r, "n1");
  r.health.forget("n1");
  CHECK_FALSE(r.healthOf("n1"));
  r.advance(r.config.flush_interval);
  CHECK_FALSE(r.storedHealth("n1"));
}

TEST_CASE("health records marked changed are written at the next flush") {
  MonitorRig r;
  readyNode(r, "n1");
  r.health.flush();
  REQUIRE(r.storedHealth("n1"));
  REQUIRE(r.store.del(keys::health("n1"), false).isOk());
  r.health.healthChanged({"n1"});
  r.advance(r.config.flush_interval);
  CHECK(r.storedHealth("n1"));
}

TEST_CASE("last seen moves with every report and is written about once a minute") {
  MonitorRig r;
  readyNode(r, "n1");
  r.health.seen("n1");
  r.advance(r.config.flush_interval);
  REQUIRE(r.storedHealth("n1"));
  REQUIRE(r.store.del(keys::health("n1"), false).isOk());
  r.advance(milliseconds(1000));
  r.health.seen("n1");
  CHECK(r.reg.health().at("n1").last_seen == r.clock.nowMs());
  r.advance(r.config.flush_interval);
  CHECK_FALSE(r.storedHealth("n1"));
  r.advance(milliseconds(60'000));
  r.health.seen("n1");
  r.advance(r.config.flush_interval);
  CHECK(r.storedHealth("n1"));
}
