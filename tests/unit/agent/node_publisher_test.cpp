// NodePublisher (node_publisher.h) over FakeBroker: each kind on its topic with the contract's
// QoS and retain flag, events buffered while offline (bounded) and sent on the next connection.
#include "agent/node_publisher.h"

#include <doctest/doctest.h>

#include "parts_rig.h"
#include "pharos/clock.h"
#include "pharos/fake_broker.h"
#include "pharos/manual_clock.h"
#include "pharos/topics.h"

using namespace pharos;
using namespace pharos::agent;
using namespace pharos::agent::testing;

namespace {

struct Rig {
  ManualClock clock;
  FakeBroker broker;
  std::unique_ptr<MqttLink> link = makeFakeLink(broker, "edge-1");
  NodePublisher publisher{"edge-1", clock, 3};

  void connect() { goOnline(broker, *link, publisher); }
  std::vector<PublishRecord> on(topics::NodeTopic kind) {
    return broker.published(topics::node("edge-1", kind));
  }
};

}  // namespace

TEST_CASE("status, info and state are retained QoS 1; heartbeats and metrics QoS 0") {
  Rig r;
  r.connect();
  r.publisher.status(true, 42, "");
  r.publisher.info(NodeInfo{});
  CHECK(r.publisher.state("{\"v\":1}").isOk());
  r.publisher.heartbeat(42, 100'000);
  r.publisher.metrics(NodeMetrics{});
  auto status = r.on(topics::NodeTopic::kStatus);
  REQUIRE(status.size() == 1);
  CHECK(status[0].message.retained);
  CHECK(status[0].message.qos == 1);
  auto decoded = decodeNodeStatus(status[0].message.payload);
  REQUIRE(decoded.isOk());
  CHECK(decoded->state == Readiness::kReady);
  CHECK(decoded->session == 42);
  CHECK(r.on(topics::NodeTopic::kInfo).at(0).message.retained);
  CHECK(r.on(topics::NodeTopic::kState).at(0).message.retained);
  auto beat = r.on(topics::NodeTopic::kHeartbeat);
  REQUIRE(beat.size() == 1);
  CHECK(beat[0].message.qos == 0);
  CHECK_FALSE(beat[0].message.retained);
  CHECK(beat[0].message.payload.find("65535") != std::string::npos);  // keep-alive capped
  CHECK(r.on(topics::NodeTopic::kMetrics).at(0).message.qos == 0);
}

TEST_CASE("events wait offline, at most the buffer's size, and go out on the next connection") {
  Rig r;
  CHECK_FALSE(r.publisher.state("{}").isOk());  // no link: nothing sent
  for (int i = 0; i < 5; ++i)
    r.publisher.emit("container_died", "web", "died " + std::to_string(i));
  CHECK(r.publisher.bufferedEvents() == 3);
  r.connect();
  CHECK(r.on(topics::NodeTopic::kEvents).empty());
  r.publisher.flushEvents();
  auto events = r.on(topics::NodeTopic::kEvents);
  REQUIRE(events.size() == 3);
  CHECK_FALSE(events[0].message.retained);
  auto first = decodeNodeEvent(events[0].message.payload);
  REQUIRE(first.isOk());
  CHECK(first->reason == "died 0");
  r.publisher.emit("app_applied", "web", "applied");
  CHECK(r.on(topics::NodeTopic::kEvents).size() == 4);
  CHECK(r.publisher.bufferedEvents() == 0);
}

TEST_CASE("a reply carries the request's correlation data") {
  Rig r;
  r.connect();
  std::string topic = topics::nodeCmdReplies("edge-1", "alice", "x1");
  r.publisher.reply(topic, "corr-7", Json{{"v", 1}, {"ok", true}});
  auto replies = r.broker.published(topic);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].message.correlation_data == "corr-7");
  CHECK_FALSE(replies[0].message.retained);
}
