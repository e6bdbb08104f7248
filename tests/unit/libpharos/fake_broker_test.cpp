// FakeBroker and its links: retained store, wildcards, wills, reconnect with subscriptions
// restored, request/response properties, delivery modes and the publish log.
#include "pharos/fake_broker.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using pharos::Code;
using pharos::FakeBroker;
using pharos::makeFakeLink;
using pharos::MqttMessage;
using pharos::MqttOptions;
using pharos::Status;

namespace {

MqttMessage msg(std::string topic, std::string payload, bool retained = false) {
  MqttMessage m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.retained = retained;
  return m;
}

// Records what a link receives.
struct Recorder {
  std::vector<MqttMessage> messages;
  std::vector<bool> connections;
  void attach(pharos::MqttLink& link) {
    link.onMessage([this](const MqttMessage& m) { messages.push_back(m); });
    link.onConnection([this](bool up) { connections.push_back(up); });
  }
  std::vector<std::string> payloads() const {
    std::vector<std::string> out;
    for (const auto& m : messages) out.push_back(m.payload);
    return out;
  }
};

MqttOptions withWill(std::string client_id, std::string topic, std::string payload) {
  MqttOptions options;
  options.client_id = std::move(client_id);
  options.will = msg(std::move(topic), std::move(payload));
  return options;
}

}  // namespace

TEST_CASE("delivers a publish to a matching wildcard subscriber only after deliverAll") {
  FakeBroker broker;
  auto sub = makeFakeLink(broker, "sub");
  auto pub = makeFakeLink(broker, "pub");
  Recorder rec;
  rec.attach(*sub);
  REQUIRE(sub->connect().isOk());
  REQUIRE(pub->connect().isOk());
  REQUIRE(sub->subscribe("pharos/v1/nodes/+/status").isOk());
  REQUIRE(pub->publish(msg("pharos/v1/nodes/n1/status", "a")).isOk());
  REQUIRE(pub->publish(msg("pharos/v1/nodes/n1/info", "b")).isOk());
  CHECK(rec.messages.empty());
  CHECK(broker.pending() > 0);
  broker.deliverAll();
  CHECK(broker.pending() == 0);
  CHECK(rec.payloads() == std::vector<std::string>{"a"});
  CHECK_FALSE(rec.messages[0].retained);
  CHECK(rec.connections == std::vector<bool>{true});
}

TEST_CASE("synchronous mode delivers during publish") {
  FakeBroker broker(FakeBroker::Delivery::kSynchronous);
  auto link = makeFakeLink(broker, "a");
  Recorder rec;
  rec.attach(*link);
  REQUIRE(link->connect().isOk());
  CHECK(rec.connections == std::vector<bool>{true});
  REQUIRE(link->subscribe("x/#").isOk());
  REQUIRE(link->publish(msg("x/y", "1")).isOk());
  CHECK(rec.payloads() == std::vector<std::string>{"1"});
}

TEST_CASE("a handler that publishes does not nest deliveries") {
  FakeBroker broker(FakeBroker::Delivery::kSynchronous);
  auto link = makeFakeLink(broker, "a");
  std::vector<std::string> order;
  link->onMessage([&](const MqttMessage& m) {
    order.push_back("in:" + m.topic);
    if (m.topic == "t/1") (void)link->publish(msg("t/2", ""));
    order.push_back("out:" + m.topic);
  });
  REQUIRE(link->connect().isOk());
  REQUIRE(link->subscribe("t/+").isOk());
  REQUIRE(link->publish(msg("t/1", "")).isOk());
  CHECK(order == std::vector<std::string>{"in:t/1", "out:t/1", "in:t/2", "out:t/2"});
}

TEST_CASE("stores retained messages and delivers them on subscribe") {
  FakeBroker broker;
  auto pub = makeFakeLink(broker, "pub");
  REQUIRE(pub->connect().isOk());
  REQUIRE(pub->publish(msg("pharos/v1/nodes/n1/desired", "d1", true)).isOk());
  REQUIRE(pub->publish(msg("pharos/v1/nodes/n2/desired", "d2", true)).isOk());
  REQUIRE(pub->publish(msg("pharos/v1/nodes/n1/desired", "d1b", true)).isOk());
  REQUIRE(broker.retained("pharos/v1/nodes/n1/desired").has_value());
  CHECK(broker.retained("pharos/v1/nodes/n1/desired")->payload == "d1b");
  CHECK(broker.retainedMatching("pharos/v1/nodes/+/desired").size() == 2);

  auto sub = makeFakeLink(broker, "sub");
  Recorder rec;
  rec.attach(*sub);
  REQUIRE(sub->connect().isOk());
  REQUIRE(sub->subscribe("pharos/v1/nodes/n1/#").isOk());
  broker.deliverAll();
  REQUIRE(rec.messages.size() == 1);
  CHECK(rec.messages[0].payload == "d1b");
  CHECK(rec.messages[0].retained);
}

TEST_CASE("an empty retained payload deletes the retained message") {
  FakeBroker broker;
  broker.publish(msg("a/b", "x", true));
  REQUIRE(broker.retained("a/b").has_value());
  broker.publish(msg("a/b", "", true));
  CHECK_FALSE(broker.retained("a/b").has_value());
  auto sub = makeFakeLink(broker, "sub");
  Recorder rec;
  rec.attach(*sub);
  REQUIRE(sub->connect().isOk());
  REQUIRE(sub->subscribe("#").isOk());
  broker.deliverAll();
  CHECK(rec.messages.empty());
}

TEST_CASE("passes response topic and correlation data through") {
  FakeBroker broker(FakeBroker::Delivery::kSynchronous);
  auto anchor = makeFakeLink(broker, "anchor");
  auto cli = makeFakeLink(broker, "cli");
  REQUIRE(anchor->connect().isOk());
  REQUIRE(cli->connect().isOk());
  anchor->onMessage([&](const MqttMessage& request) {
    MqttMessage reply = msg(request.response_topic, "{\"ok\":true}");
    reply.correlation_data = request.correlation_data;
    (void)anchor->publish(reply);
  });
  REQUIRE(anchor->subscribe("pharos/v1/api/+/+").isOk());
  Recorder rec;
  rec.attach(*cli);
  REQUIRE(cli->subscribe("pharos/v1/replies/ops/#").isOk());
  MqttMessage request = msg("pharos/v1/api/ops/node.list", "{}");
  request.response_topic = "pharos/v1/replies/ops/r1";
  request.correlation_data = std::string("\x00\x01\xff", 3);
  REQUIRE(cli->publish(request).isOk());
  REQUIRE(rec.messages.size() == 1);
  CHECK(rec.messages[0].topic == "pharos/v1/replies/ops/r1");
  CHECK(rec.messages[0].correlation_data == std::string("\x00\x01\xff", 3));
}

TEST_CASE("kill publishes the will retained and the killed link stays down") {
  FakeBroker broker;
  auto agent = makeFakeLink(broker, withWill("n1", "pharos/v1/nodes/n1/status", "NotReady"));
  auto anchor = makeFakeLink(broker, "anchor");
  Recorder agent_rec;
  Recorder anchor_rec;
  agent_rec.attach(*agent);
  anchor_rec.attach(*anchor);
  REQUIRE(agent->connect().isOk());
  REQUIRE(anchor->connect().isOk());
  REQUIRE(anchor->subscribe("pharos/v1/nodes/+/status").isOk());
  broker.kill("n1");
  broker.deliverAll();
  CHECK_FALSE(agent->connected());
  CHECK(agent_rec.connections == std::vector<bool>{true, false});
  CHECK(anchor_rec.payloads() == std::vector<std::string>{"NotReady"});
  REQUIRE(broker.retained("pharos/v1/nodes/n1/status").has_value());
  auto wills = broker.published("pharos/v1/nodes/n1/status");
  REQUIRE(wills.size() == 1);
  CHECK(wills[0].will);
  CHECK(wills[0].client_id == "n1");
  broker.setUp(false);
  broker.setUp(true);
  CHECK_FALSE(agent->connected());
}

TEST_CASE("a clean disconnect publishes no will and no connection-lost callback") {
  FakeBroker broker;
  auto agent = makeFakeLink(broker, withWill("n1", "s", "gone"));
  Recorder rec;
  rec.attach(*agent);
  REQUIRE(agent->connect().isOk());
  agent->disconnect();
  broker.deliverAll();
  CHECK(rec.connections == std::vector<bool>{true});
  CHECK(broker.publishLog().empty());
  CHECK(agent->publish(msg("s", "x")).code() == Code::kUnavailable);
}

TEST_CASE("going offline publishes the will and coming back restores subscriptions") {
  FakeBroker broker;
  auto agent = makeFakeLink(broker, withWill("n1", "pharos/v1/nodes/n1/status", "NotReady"));
  Recorder rec;
  rec.attach(*agent);
  REQUIRE(agent->connect().isOk());
  REQUIRE(agent->subscribe("pharos/v1/nodes/n1/desired").isOk());
  broker.setOnline("n1", false);
  CHECK_FALSE(agent->connected());
  CHECK(agent->publish(msg("pharos/v1/nodes/n1/state", "x")).code() == Code::kUnavailable);
  CHECK(broker.retained("pharos/v1/nodes/n1/status")->payload == "NotReady");
  broker.publish(msg("pharos/v1/nodes/n1/desired", "g2", true));
  broker.setOnline("n1", true);
  broker.deliverAll();
  CHECK(agent->connected());
  CHECK(rec.connections == std::vector<bool>{true, false, true});
  CHECK(rec.payloads() == std::vector<std::string>{"g2"});
  CHECK(broker.subscriptions("n1") == std::vector<std::string>{"pharos/v1/nodes/n1/desired"});
}

TEST_CASE("a broker restart drops clients without wills and keeps or wipes retained") {
  FakeBroker broker;
  auto agent = makeFakeLink(broker, withWill("n1", "will/n1", "dead"));
  Recorder rec;
  rec.attach(*agent);
  REQUIRE(agent->connect().isOk());
  REQUIRE(agent->subscribe("keep/#").isOk());
  broker.publish(msg("keep/a", "1", true));
  broker.restart();
  broker.deliverAll();
  CHECK(agent->connected());
  CHECK_FALSE(broker.retained("will/n1").has_value());
  CHECK(rec.payloads() == std::vector<std::string>{"1", "1"});  // live, then retained again
  broker.restart(/*wipe_retained=*/true);
  CHECK_FALSE(broker.retained("keep/a").has_value());
}

TEST_CASE("a link without auto_reconnect stays down after the broker comes back") {
  FakeBroker broker;
  MqttOptions options;
  options.client_id = "cli";
  options.auto_reconnect = false;
  auto link = makeFakeLink(broker, options);
  broker.setUp(false);
  Status status = link->connect();
  CHECK(status.code() == Code::kUnavailable);
  broker.setUp(true);
  CHECK_FALSE(link->connected());
  REQUIRE(link->connect().isOk());
  broker.setUp(false);
  broker.setUp(true);
  CHECK_FALSE(link->connected());
}

TEST_CASE("an auto_reconnect link connects once the broker appears") {
  FakeBroker broker;
  broker.setUp(false);
  auto link = makeFakeLink(broker, "n1");
  CHECK(link->connect().code() == Code::kUnavailable);
  REQUIRE(link->subscribe("a/#").isOk());  // remembered while down
  broker.setUp(true);
  CHECK(link->connected());
  CHECK(broker.subscriptions("n1") == std::vector<std::string>{"a/#"});
}

TEST_CASE("refused credentials fail the connect with the given status") {
  FakeBroker broker;
  broker.refuseConnect("n1", Status::permissionDenied("broker refused the credentials"));
  auto link = makeFakeLink(broker, "n1");
  CHECK(link->connect().code() == Code::kPermissionDenied);
  broker.refuseConnect("n1", Status::ok());
  CHECK(link->connect().isOk());
}

TEST_CASE("a second connection with the same client id takes over the session") {
  FakeBroker broker;
  auto first = makeFakeLink(broker, withWill("n1", "will/n1", "dead"));
  auto second = makeFakeLink(broker, "n1");
  REQUIRE(first->connect().isOk());
  REQUIRE(second->connect().isOk());
  CHECK_FALSE(first->connected());
  CHECK(second->connected());
  CHECK(broker.retained("will/n1").has_value());
}

TEST_CASE("denied publishes are dropped like an ACL denial") {
  FakeBroker broker;
  broker.denyPublish("n1", "pharos/v1/nodes/n2/#");
  auto agent = makeFakeLink(broker, "n1");
  REQUIRE(agent->connect().isOk());
  CHECK(agent->publish(msg("pharos/v1/nodes/n2/status", "x", true)).isOk());
  CHECK(agent->publish(msg("pharos/v1/nodes/n1/status", "y", true)).isOk());
  CHECK_FALSE(broker.retained("pharos/v1/nodes/n2/status").has_value());
  CHECK(broker.publishLog().size() == 1);
}

TEST_CASE("unsubscribe stops delivery and invalid topics are refused") {
  FakeBroker broker(FakeBroker::Delivery::kSynchronous);
  auto link = makeFakeLink(broker, "a");
  Recorder rec;
  rec.attach(*link);
  REQUIRE(link->connect().isOk());
  REQUIRE(link->subscribe("a/+").isOk());
  REQUIRE(link->unsubscribe("a/+").isOk());
  REQUIRE(link->publish(msg("a/b", "x")).isOk());
  CHECK(rec.messages.empty());
  CHECK(link->publish(msg("a/+", "x")).code() == Code::kInvalidArgument);
  CHECK(link->publish(msg("", "x")).code() == Code::kInvalidArgument);
  CHECK(link->subscribe("").code() == Code::kInvalidArgument);
}

TEST_CASE("a destroyed link receives nothing that was queued for it") {
  FakeBroker broker;
  auto link = makeFakeLink(broker, "a");
  int calls = 0;
  link->onMessage([&](const MqttMessage&) { ++calls; });
  REQUIRE(link->connect().isOk());
  REQUIRE(link->subscribe("#").isOk());
  broker.publish(msg("x", "1"));
  link.reset();
  CHECK(broker.deliverAll() == 0);
  CHECK(calls == 0);
  CHECK_FALSE(broker.isConnected("a"));
}
