// pharos-fleetsim --floor: plain MQTT subscribers instead of agents, for the broker-only
// floors of the fan-out benchmark (fleet.h). Each subscriber notes the first delivery of
// --floor-topic; with --floor-echo it answers through the broker, either with one small QoS 1
// message or (--floor-echo-contract) with what a hollow agent publishes for a rollout: its
// app_applied event, then its state. --floor-collect runs the one subscriber that counts
// the answers (only the states in contract mode), like the anchor.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "fleet.h"
#include "fleet_util.h"
#include "pharos/messages.h"
#include "pharos/mqtt_link.h"
#include "pharos/tcp_nodelay.h"

namespace pharos::fleetsim {
namespace {

// Arrivals seen by floor subscribers or the collector: count, first and last wall ms.
struct Arrivals {
  std::atomic<int> received{0};
  std::atomic<int64_t> first_ms{0}, last_ms{0};
  void note() {
    int64_t now = wallMs();
    int64_t expected = 0;
    first_ms.compare_exchange_strong(expected, now);
    int64_t last = last_ms.load();
    while (now > last && !last_ms.compare_exchange_weak(last, now)) {
    }
    received.fetch_add(1);
  }
};

std::unique_ptr<MqttLink> floorLink(const FleetOptions& o, const std::string& client_id,
                                    bool nodelay) {
  MqttOptions m;
  m.url = o.url;
  m.client_id = client_id;
  m.username = o.floor_user;
  m.password = o.password;
  m.keep_alive = o.keep_alive;
  m.tcp_nodelay = nodelay;
  return makePahoLink(m);
}

// Prints `event` lines (received, first_ms, last_ms) until `stop`: on every change that
// completes the count, at the start, and about once a second.
void reportArrivals(const char* event, const Arrivals& a, size_t expected,
                    const std::atomic<bool>& stop) {
  int reported = -1;
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    int r = a.received.load();
    if (r != reported && (r == static_cast<int>(expected) || r == 0 || wallMs() % 1000 < 20)) {
      emitLine(fmt::format(
          R"({{"event":"{}","received":{},"nodes":{},"first_ms":{},"last_ms":{},"ts":{}}})", event,
          r, expected, a.first_ms.load(), a.last_ms.load(), wallMs()));
      reported = r;
    }
  }
}

// What a hollow agent publishes when it has applied a one-service app from a group document
// (sizes and shapes as the real encoders write them): the app_applied event, then the state.
std::vector<MqttMessage> contractAnswers(const std::string& base, const std::string& node) {
  std::string app = "floor";
  NodeEvent event;
  event.kind = "app_applied";
  event.app = app;
  event.reason = "revision 1 running";
  event.message = fmt::format("created network {}_default, service main", app);
  event.ts = wallMs();
  NodeState state;
  state.applied = {{"node", "0123456789abcdef", 3}, {"group:fan-10000", "0123456789abcdef", 2}};
  AppState a;
  a.name = app;
  a.revision = 1;
  a.phase = AppPhase::kRunning;
  ServiceState s;
  s.name = "main";
  s.container_id = std::string(64, 'c');
  s.state = ContainerState::kRunning;
  s.image = "busybox:1.36";
  s.image_id = "sha256:" + std::string(64, 'b');
  a.services.push_back(s);
  state.apps.push_back(a);
  state.ts = event.ts;
  return {MqttMessage{base + node + "/events", dumpJson(encode(event)), 1, false, "", ""},
          // Not retained, unlike an agent's: the bench leaves no 10,000 retained copies
          // behind (the broker's retained store then skips one replace per node).
          MqttMessage{base + node + "/state", dumpJson(encode(state)), 1, false, "", ""}};
}

int runCollector(const FleetOptions& o, const std::atomic<bool>& stop) {
  Arrivals arrivals;
  auto link = floorLink(o, fmt::format("floor-collect-{}", o.shard), true);
  bool states_only = o.floor_echo_contract;
  link->onMessage([&, states_only](const MqttMessage& msg) {
    if (msg.payload.empty()) return;
    if (states_only && !msg.topic.ends_with("/state")) return;
    arrivals.note();
  });
  (void)link->subscribe(o.floor_topic + "/echo/#", 1);
  Status st = link->connect();
  emitLine(fmt::format(R"({{"event":"collect-connected","connected":{},"ts":{}}})",
                       link->connected() ? 1 : 0, wallMs()));
  if (!st.isOk()) spdlog::error("collector: {}", st.message());
  reportArrivals("echo", arrivals, static_cast<size_t>(o.nodes), stop);
  link->disconnect();
  return 0;
}

int runSubscribers(const FleetOptions& o, const std::vector<std::string>& nodes,
                   const std::atomic<bool>& stop) {
  Arrivals arrivals;
  std::vector<std::unique_ptr<MqttLink>> links(nodes.size());
  std::string base = o.floor_topic + "/echo/";
  for (size_t k = 0; k < nodes.size(); ++k) {
    // TCP_NODELAY for the answering ones: one descriptor scan after the connects, below.
    links[k] = floorLink(o, "floor-" + nodes[k], false);
    auto seen = std::make_shared<std::atomic<bool>>(false);
    MqttLink* link = links[k].get();
    std::string node = nodes[k];
    links[k]->onMessage([&, seen, link, node](const MqttMessage& msg) {
      if (msg.payload.empty() || seen->exchange(true)) return;
      arrivals.note();
      if (o.floor_echo_contract) {
        for (MqttMessage& m : contractAnswers(base, node)) (void)link->publish(std::move(m));
      } else if (o.floor_echo) {
        (void)link->publish(MqttMessage{base + node, R"({"v":1})", 1, false, "", ""});
      }
    });
    (void)links[k]->subscribe(o.floor_topic, 1);
  }
  int64_t t0 = wallMs();
  std::vector<std::thread> connectors;
  std::atomic<size_t> next{0};
  for (int t = 0; t < o.threads; ++t) {
    connectors.emplace_back([&] {
      for (size_t k = next++; k < links.size(); k = next++) (void)links[k]->connect();
    });
  }
  for (auto& t : connectors) t.join();
  int connected = 0;
  for (auto& l : links) connected += l->connected() ? 1 : 0;
  // The echo follows the PUBACK of the floor message at once: without TCP_NODELAY it would
  // wait for the broker's delayed ACK (40 ms), as an agent's report would.
  bool echo = o.floor_echo || o.floor_echo_contract;
  if (auto port = mqttUrlPort(o.url); echo && port) setTcpNoDelayToPort(*port);
  emitLine(fmt::format(R"({{"event":"floor-connected","connected":{},"nodes":{},"ms":{},"ts":{}}})",
                       connected, nodes.size(), wallMs() - t0, wallMs()));
  reportArrivals("floor", arrivals, nodes.size(), stop);
  for (auto& l : links) l->disconnect();
  return 0;
}

}  // namespace

int runFloor(const FleetOptions& o, const std::vector<std::string>& nodes,
             const std::atomic<bool>& stop) {
  return o.floor_collect ? runCollector(o, stop) : runSubscribers(o, nodes, stop);
}

}  // namespace pharos::fleetsim
