// Agent heartbeats (docs/protocol.md "Health"): nodes/{node}/heartbeat, QoS 0 and not
// retained, with the current session and keep-alive, once at connect and then every
// keep-alive / 2 (at least 500 ms apart) while connected; none while cut off or stopped; and
// sent off the core's strand, so a slow call on it does not stop them (real threads).
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "agent_rig.h"

namespace pharos::agent {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the shared rig
using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<NodeHeartbeat> heartbeats(Rig& rig) {
  std::vector<NodeHeartbeat> out;
  for (const PublishRecord& r :
       rig.broker.published(topics::node(kNode, topics::NodeTopic::kHeartbeat))) {
    CHECK(r.message.qos == 0);
    CHECK_FALSE(r.message.retained);
    auto beat = decodeNodeHeartbeat(r.message.payload);
    REQUIRE(beat.isOk());
    out.push_back(*beat);
  }
  return out;
}

TEST_CASE("a connected agent sends a heartbeat at once and then every keep-alive / 2") {
  Rig rig;
  rig.options.mqtt.keep_alive = seconds(2);
  rig.boot();
  auto beats = heartbeats(rig);
  REQUIRE(beats.size() == 1);
  CHECK(beats[0].session == rig.agent->session());
  CHECK(beats[0].keep_alive == 2);
  CHECK(rig.status().state == Readiness::kReady);  // the status went first
  rig.advance(milliseconds(999));
  CHECK(heartbeats(rig).size() == 1);
  rig.advance(milliseconds(1));
  CHECK(heartbeats(rig).size() == 2);
  rig.advance(milliseconds(10'000));
  CHECK(heartbeats(rig).size() == 12);
  CHECK(rig.broker.retained(topics::node(kNode, topics::NodeTopic::kHeartbeat)) == std::nullopt);
}

TEST_CASE("the heartbeat period is never below 500 ms and follows an explicit interval") {
  Rig fast;
  fast.options.mqtt.keep_alive = seconds(1);
  fast.boot();
  fast.advance(milliseconds(2000));
  CHECK(heartbeats(fast).size() == 5);  // at 0, 500, 1000, 1500, 2000 ms

  Rig set;
  set.options.mqtt.keep_alive = seconds(10);
  set.options.heartbeat_interval = milliseconds(100);  // raised to the 500 ms floor
  set.boot();
  set.advance(milliseconds(1000));
  CHECK(heartbeats(set).size() == 3);
  CHECK(heartbeats(set).back().keep_alive == 10);
}

TEST_CASE("no heartbeat while the link is down, at once again on reconnect") {
  Rig rig;
  rig.options.mqtt.keep_alive = seconds(2);
  rig.options.mqtt.auto_reconnect = true;
  rig.boot();
  rig.broker.setOnline(kClient, false);
  rig.pump();
  size_t before = heartbeats(rig).size();
  rig.advance(milliseconds(5000));
  CHECK(heartbeats(rig).size() == before);
  rig.broker.setOnline(kClient, true);
  rig.pump();
  CHECK(heartbeats(rig).size() == before + 1);
  CHECK(heartbeats(rig).back().session == rig.agent->session());
  rig.advance(milliseconds(1000));
  CHECK(heartbeats(rig).size() == before + 2);
}

TEST_CASE("a stopped agent, or one without keep-alive, sends no heartbeat") {
  Rig rig;
  rig.options.mqtt.keep_alive = seconds(2);
  rig.boot();
  rig.agent->stop(false);
  rig.pump();
  size_t before = heartbeats(rig).size();
  rig.advance(milliseconds(5000));
  CHECK(heartbeats(rig).size() == before);

  Rig none;
  none.options.mqtt.keep_alive = seconds(0);
  none.boot();
  none.advance(milliseconds(5000));
  CHECK(heartbeats(none).empty());
  CHECK(none.status().state == Readiness::kReady);
}

}  // namespace
}  // namespace pharos::agent

namespace pharos::agent {
namespace {

// A link whose publishes on `slow_topic` take `hold` (a strand task stuck in a slow call, as
// a reconciler step waiting out a container's stop grace period), and which counts the
// heartbeats that pass meanwhile. Everything else goes to the fake broker's link.
class HoldingLink final : public MqttLink {
 public:
  HoldingLink(std::unique_ptr<MqttLink> inner, std::string slow_topic, milliseconds hold)
      : inner_(std::move(inner)), slow_topic_(std::move(slow_topic)), hold_(hold) {}
  void onMessage(MessageHandler handler) override { inner_->onMessage(std::move(handler)); }
  void onConnection(ConnectionHandler handler) override {
    inner_->onConnection(std::move(handler));
  }
  Status connect() override { return inner_->connect(); }
  void disconnect() override { inner_->disconnect(); }
  bool connected() const override { return inner_->connected(); }
  Status subscribe(const std::string& filter, int qos) override {
    return inner_->subscribe(filter, qos);
  }
  Status unsubscribe(const std::string& filter) override { return inner_->unsubscribe(filter); }
  Status publish(const MqttMessage& message) override {
    if (message.topic == slow_topic_ && !held_.exchange(true)) {
      holding_ = true;
      std::this_thread::sleep_for(hold_);
      holding_ = false;
    } else if (holding_ && message.topic == topics::node(kNode, topics::NodeTopic::kHeartbeat)) {
      ++beats_while_held_;
    }
    return inner_->publish(message);
  }

  std::atomic<bool> held_{false};
  std::atomic<bool> holding_{false};
  std::atomic<int> beats_while_held_{0};

 private:
  std::unique_ptr<MqttLink> inner_;
  std::string slow_topic_;
  milliseconds hold_;
};

TEST_CASE("heartbeats go on while the agent's core is held by a slow call") {
  TempDir dir;
  SystemClock clock;
  FakeBroker broker;
  FakeDockerClient docker(&clock);
  StateFile state_file(dir.path + "/state.json");
  AgentOptions options;
  options.node_id = kNode;
  options.mqtt.keep_alive = seconds(1);  // a heartbeat every 500 ms
  options.reconciler.create_app_dirs = false;
  options.reconciler.data_dir = dir.path;
  options.host_metrics = false;
  HoldingLink* link = nullptr;
  // The first state publish (at connect, on the strand) holds the strand for 2 s.
  auto factory = [&](MqttOptions o) {
    auto l = std::make_unique<HoldingLink>(makeFakeLink(broker, o),
                                           topics::node(kNode, topics::NodeTopic::kState),
                                           milliseconds(2000));
    link = l.get();
    return std::unique_ptr<MqttLink>(std::move(l));
  };
  std::atomic<bool> pumping{true};
  std::thread pump([&] {
    while (pumping) {
      broker.deliverAll();
      std::this_thread::sleep_for(milliseconds(5));
    }
  });
  {
    ThreadPoolExecutor executor("hb-test", 3);
    Agent agent(options, executor, docker.api(), clock, state_file, factory);
    agent.start();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while ((!link || !link->held_ || link->holding_) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    REQUIRE(link != nullptr);
    REQUIRE(link->held_);
    // Four heartbeats are due in the 2 s hold; the core's strand sent none of them.
    MESSAGE("heartbeats during the 2 s hold: " << link->beats_while_held_.load());
    CHECK(link->beats_while_held_ >= 2);
    agent.stop();
    executor.shutdown();
  }
  pumping = false;
  pump.join();
}

}  // namespace
}  // namespace pharos::agent
