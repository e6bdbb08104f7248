// The edge node against the fake broker: births after settling (and after the primary host),
// seq numbering, DDEATH/DBIRTH on health verdicts, DDATA with only what changed, Rebirth,
// and the host input it must refuse without changing anything.
#include "sparkplug/edge_node.h"

#include <doctest/doctest.h>

#include "pharos/fake_broker.h"
#include "pharos/manual_clock.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

using namespace pharos;
using namespace pharos::sparkplug;
using topics::NodeTopic;

namespace {

MqttMessage message(std::string topic, std::string payload, int qos, bool retained) {
  MqttMessage m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.qos = qos;
  m.retained = retained;
  return m;
}

struct RecordingSink : CommandSink {
  std::vector<AppCommand> commands;
  void submit(const AppCommand& c) override { commands.push_back(c); }
};

struct Fixture {
  FakeBroker broker{FakeBroker::Delivery::kSynchronous};
  ManualClock clock;
  RecordingSink sink;
  std::unique_ptr<EdgeNode> edge;
  std::unique_ptr<MqttLink> link;

  explicit Fixture(EdgeConfig config = {}) {
    config.settle = std::chrono::milliseconds(300);
    edge = std::make_unique<EdgeNode>(config, clock, &sink);
    MqttOptions o;
    o.client_id = "sparkplug";
    o.will = edge->deathMessage(7);
    o.will_retained = false;
    link = makeFakeLink(broker, o);
    link->onMessage([this](const MqttMessage& m) { edge->onMessage(m); });
    REQUIRE(link->connect().isOk());
    edge->sessionStarted(link.get(), 7);
    for (const auto& [filter, qos] : edge->subscriptions()) {
      REQUIRE(link->subscribe(filter, qos).isOk());
    }
    edge->subscribed();
  }

  void health(const std::string& node, Readiness state) {
    broker.publish(message(topics::node(node, NodeTopic::kHealth),
                           dumpJson(encode(NodeHealth{state, 1, "test", 1})), 1, true));
  }
  void state(const std::string& node, const std::string& app, AppPhase phase) {
    NodeState s;
    AppState a;
    a.name = app;
    a.revision = 3;
    a.phase = phase;
    a.services.push_back(
        ServiceState{"web", "c1", ContainerState::kRunning, "", 2, 0, "img", "sha"});
    s.apps.push_back(a);
    broker.publish(message(topics::node(node, NodeTopic::kState), dumpJson(encode(s)), 1, true));
  }
  void settle() {
    clock.advance(std::chrono::milliseconds(400));
    edge->tick();
  }
  // Sparkplug messages published by the edge node, decoded, in order.
  std::vector<std::pair<std::string, Payload>> sent() {
    std::vector<std::pair<std::string, Payload>> out;
    for (const auto& r : broker.published("spBv1.0/#")) {
      if (r.client_id != "sparkplug") continue;
      auto p = decodePayload(r.message.payload, 1 << 20, 10000);
      REQUIRE(p);
      out.emplace_back(r.message.topic, *p);
    }
    broker.clearLog();
    return out;
  }
  void command(const std::string& topic, Payload p) {
    broker.publish(message(topic, encodePayload(p), 1, false));
  }
};

const Metric* find(const Payload& p, const std::string& name) {
  for (const auto& m : p.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

Payload boolCommand(const std::string& name, Value value, DataType type = DataType::kBoolean,
                    uint64_t ts = 1) {
  Payload p;
  p.timestamp = ts;
  p.metrics.push_back(Metric{name, type, std::move(value), 0, true});
  return p;
}

}  // namespace

TEST_CASE("births follow the settled Pharos documents, seq counts from 0") {
  Fixture f;
  f.health("n1", Readiness::kReady);
  f.state("n1", "web", AppPhase::kRunning);
  f.health("n2", Readiness::kNotReady);
  f.edge->tick();
  CHECK(f.sent().empty());  // still settling
  f.settle();
  auto out = f.sent();
  REQUIRE(out.size() == 2);
  CHECK(out[0].first == "spBv1.0/pharos/NBIRTH/site");
  CHECK(out[0].second.seq == 0u);
  REQUIRE(find(out[0].second, "bdSeq"));
  CHECK(find(out[0].second, "bdSeq")->value == Value(int64_t{7}));
  CHECK(find(out[0].second, "Node Control/Rebirth")->value == Value(false));
  CHECK(find(out[0].second, "Fleet/Nodes Ready")->value == Value(int64_t{1}));
  CHECK(out[1].first == "spBv1.0/pharos/DBIRTH/site/n1");
  CHECK(out[1].second.seq == 1u);
  CHECK(find(out[1].second, "Apps/web/Phase")->value == Value(std::string("Running")));
  CHECK(find(out[1].second, "Apps/web/Restart Count")->value == Value(int64_t{2}));
  CHECK(find(out[1].second, "Apps/web/Control/Restart") == nullptr);  // commands off
  CHECK(find(out[1].second, "Properties/OS")->value == Value(std::monostate{}));
}

TEST_CASE("DDEATH when the verdict leaves Ready, DBIRTH when it returns, DDATA only changes") {
  Fixture f;
  f.health("n1", Readiness::kReady);
  f.state("n1", "web", AppPhase::kRunning);
  f.settle();
  f.sent();
  f.state("n1", "web", AppPhase::kCrashLoop);
  f.edge->tick();
  auto out = f.sent();
  REQUIRE(out.size() == 1);  // the fleet counts did not change: no NDATA
  CHECK(out[0].first == "spBv1.0/pharos/DDATA/site/n1");
  CHECK(out[0].second.seq == 2u);
  REQUIRE(out[0].second.metrics.size() == 1);
  CHECK(out[0].second.metrics[0].name == "Apps/web/Phase");
  f.health("n1", Readiness::kNotReady);
  out = f.sent();
  REQUIRE(out.size() == 1);
  CHECK(out[0].first == "spBv1.0/pharos/DDEATH/site/n1");
  CHECK(out[0].second.seq == 3u);
  f.health("n1", Readiness::kReady);
  out = f.sent();
  REQUIRE(out.size() == 1);
  CHECK(out[0].first == "spBv1.0/pharos/DBIRTH/site/n1");
}

TEST_CASE("seq wraps from 255 to 0") {
  Fixture f;
  f.health("n1", Readiness::kReady);
  f.settle();
  f.sent();
  for (int i = 0; i < 300; ++i) {
    NodeMetrics m;
    m.cpu_percent = i;
    f.broker.publish(
        message(topics::node("n1", NodeTopic::kMetrics), dumpJson(encode(m)), 0, false));
    f.edge->tick();
  }
  auto out = f.sent();
  REQUIRE(out.size() == 300);
  CHECK(out[0].second.seq == 2u);
  CHECK(out[253].second.seq == 255u);
  CHECK(out[254].second.seq == 0u);
}

TEST_CASE("births wait for the primary host's STATE online; offline ends the session") {
  EdgeConfig config;
  config.primary_host_id = "scada";
  Fixture f(config);
  f.health("n1", Readiness::kReady);
  f.settle();
  CHECK(f.sent().empty());
  f.broker.publish(message("spBv1.0/STATE/scada", R"({"online":true,"timestamp":10})", 1, true));
  f.settle();
  CHECK(f.sent().size() == 2);
  // An older STATE is ignored; a newer offline one asks for a new session.
  f.broker.publish(message("spBv1.0/STATE/scada", R"({"online":false,"timestamp":5})", 1, true));
  CHECK_FALSE(f.edge->reconnectRequested());
  f.broker.publish(message("spBv1.0/STATE/scada", R"({"online":false,"timestamp":11})", 1, true));
  CHECK(f.edge->reconnectRequested());
}

TEST_CASE("Rebirth republishes every birth with seq 0 and the same bdSeq") {
  Fixture f;
  f.health("n1", Readiness::kReady);
  f.settle();
  f.sent();
  f.command("spBv1.0/pharos/NCMD/site", boolCommand("Node Control/Rebirth", true));
  auto out = f.sent();
  REQUIRE(out.size() == 2);
  CHECK(out[0].first == "spBv1.0/pharos/NBIRTH/site");
  CHECK(out[0].second.seq == 0u);
  CHECK(find(out[0].second, "bdSeq")->value == Value(int64_t{7}));
  CHECK(out[1].second.seq == 1u);
}

TEST_CASE("bad host input is refused and changes nothing") {
  EdgeConfig config;
  config.commands = true;
  Fixture f(config);
  f.health("n1", Readiness::kReady);
  f.state("n1", "web", AppPhase::kRunning);
  f.settle();
  f.sent();
  const std::string ncmd = "spBv1.0/pharos/NCMD/site";
  const std::string dcmd = "spBv1.0/pharos/DCMD/site/n1";
  f.broker.publish(message(ncmd, std::string("\xff\xff\xff", 3), 1, false));
  f.command(ncmd, boolCommand("Node Control/Reboot", true, DataType::kBoolean, 11));
  f.command(ncmd, boolCommand("Node Control/Rebirth", int64_t{1}, DataType::kInt32, 12));
  f.command(ncmd, boolCommand("Node Control/Rebirth", false, DataType::kBoolean, 13));
  f.command(dcmd,
            boolCommand("Apps/web/Control/Restart", std::string("yes"), DataType::kString, 2));
  f.command(dcmd, boolCommand("Apps/other/Control/Restart", true, DataType::kBoolean, 3));
  f.command(dcmd, boolCommand("Apps/web/Control/Reboot", true, DataType::kBoolean, 4));
  f.command("spBv1.0/pharos/DCMD/site/n9", boolCommand("Apps/web/Control/Restart", true));
  f.broker.publish(message("spBv1.0/STATE/whoever", "junk", 1, false));
  CHECK(f.sent().empty());
  CHECK(f.sink.commands.empty());
  CHECK(f.edge->stats().refused == 8);

  // A valid DCMD goes to the sink once; the same command again is a replay.
  f.command(dcmd, boolCommand("Apps/web/Control/Restart", true, DataType::kBoolean, 99));
  f.command(dcmd, boolCommand("Apps/web/Control/Restart", true, DataType::kBoolean, 99));
  REQUIRE(f.sink.commands.size() == 1);
  CHECK(f.sink.commands[0].app == "web");
  CHECK(f.sink.commands[0].device == "n1");
  CHECK(f.sink.commands[0].operation == "app.restart");
}

TEST_CASE("DCMD is refused while commands are off") {
  Fixture f;
  f.health("n1", Readiness::kReady);
  f.state("n1", "web", AppPhase::kRunning);
  f.settle();
  f.command("spBv1.0/pharos/DCMD/site/n1", boolCommand("Apps/web/Control/Stop", true));
  CHECK(f.sink.commands.empty());
  CHECK(f.edge->stats().refused == 1);
}

TEST_CASE("the will is the NDEATH with the session's bdSeq, not retained") {
  Fixture f;
  f.broker.kill("sparkplug");
  auto deaths = f.broker.published("spBv1.0/pharos/NDEATH/site");
  REQUIRE(deaths.size() == 1);
  CHECK(deaths[0].will);
  CHECK_FALSE(deaths[0].message.retained);
  auto p = decodePayload(deaths[0].message.payload);
  REQUIRE(p);
  CHECK(find(*p, "bdSeq")->value == Value(int64_t{7}));
  CHECK_FALSE(p->seq.has_value());
}
