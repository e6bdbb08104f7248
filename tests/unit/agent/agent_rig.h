// Test rig of the agent core (agent_test.cpp, agent_heartbeat_test.cpp): an Agent over
// FakeBroker + FakeDockerClient + ManualClock/ManualExecutor with a temporary state file, and
// helpers to publish documents and read what the agent reported. Single-threaded.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/fake_docker.h"
#include "pharos/fake_broker.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"
#include "pharos/topics.h"

namespace pharos::agent::testing {

using std::chrono::milliseconds;
constexpr const char* kNode = "edge-1";
constexpr const char* kClient = "edge-1";  // agents connect with their node id

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/pharos-agent-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

inline AppSpec app(const std::string& name, const std::string& image = "busybox", int64_t rev = 1) {
  AppSpec a;
  a.name = name;
  a.revision = rev;
  a.compose = "services:\n  main:\n    image: " + image + "\n";
  return a;
}

inline DesiredDoc nodeDoc(int64_t generation, std::vector<AppSpec> apps,
                          std::vector<std::string> groups = {}, const std::string& epoch = "ep1") {
  DesiredDoc d;
  d.epoch = epoch;
  d.generation = generation;
  d.apps = std::move(apps);
  d.groups = std::move(groups);
  return d;
}

struct Rig {
  TempDir dir;
  ManualClock clock;
  ManualExecutor exec{clock};
  FakeBroker broker;
  FakeDockerClient docker{&clock};
  StateFile state_file{dir.path + "/state.json"};
  std::unique_ptr<Agent> agent;
  AgentOptions options;

  Rig() {
    for (const char* image : {"busybox:latest", "nginx:latest", "redis:latest"}) {
      docker.addRegistryImage(image);
    }
    options.node_id = kNode;
    options.labels = {{"line", "a"}};
    options.reconciler.pull_jitter = milliseconds(0);
    options.reconciler.create_app_dirs = false;
    options.reconciler.data_dir = dir.path;
    options.host_metrics = false;
    options.keys = sealed::generateKeyPair();
  }

  void boot() {
    agent = std::make_unique<Agent>(options, exec, docker.api(), clock, state_file,
                                    [this](MqttOptions o) { return makeFakeLink(broker, o); });
    agent->start();
    pump();
  }
  void shutdown() {
    agent->stop(false);
    pump();
    agent.reset();
  }
  void pump() {
    for (int i = 0; i < 100; ++i) {
      int ran = exec.runUntilIdle();
      size_t delivered = broker.deliverAll();
      if (ran == 0 && delivered == 0) break;
    }
  }
  // Lets debounced state and timers run.
  void advance(milliseconds ms) {
    exec.advance(ms);
    pump();
  }
  void publish(const std::string& topic, const std::string& payload, bool retained = true) {
    broker.publish(MqttMessage{topic, payload, 1, retained, "", ""});
    pump();
    advance(milliseconds(300));
  }
  void publishNode(const DesiredDoc& d) {
    publish(topics::node(kNode, topics::NodeTopic::kDesired), dumpJson(encode(d)));
  }
  // Seals `s` to the agent's public key (or `to`), as the anchor does, and publishes it.
  void publishSecrets(SecretsDoc s, const std::string& to = {}) {
    s.node = kNode;
    auto sealed_doc = sealSecrets(s, to.empty() ? options.keys.public_key : to);
    REQUIRE(sealed_doc.isOk());
    publish(topics::node(kNode, topics::NodeTopic::kSecrets), dumpJson(encode(*sealed_doc)));
  }
  void publishGroup(const std::string& g, const DesiredDoc& d) {
    publish(topics::groupDesired(g), dumpJson(encodeGroupDesired(d)));
  }
  NodeStatus status() {
    auto m = broker.retained(topics::node(kNode, topics::NodeTopic::kStatus));
    REQUIRE(m.has_value());
    auto st = decodeNodeStatus(m->payload);
    REQUIRE(st.isOk());
    return *st;
  }
  Json state() {
    auto m = broker.retained(topics::node(kNode, topics::NodeTopic::kState));
    REQUIRE(m.has_value());
    return Json::parse(m->payload);
  }
  std::vector<NodeEvent> events() {
    std::vector<NodeEvent> out;
    for (const PublishRecord& r :
         broker.published(topics::node(kNode, topics::NodeTopic::kEvents))) {
      auto e = decodeNodeEvent(r.message.payload);
      if (e.isOk()) out.push_back(*e);
    }
    return out;
  }
  bool hasEvent(const std::string& kind) {
    auto ev = events();
    return std::any_of(ev.begin(), ev.end(), [&](const NodeEvent& e) { return e.kind == kind; });
  }
  bool running(const std::string& app_name) {
    auto c = docker.containers().inspectContainer(app_name + "_main_1");
    return c.isOk() && c->running;
  }
  std::vector<std::string> subscriptions() { return broker.subscriptions(kClient); }
  bool subscribed(const std::string& filter) {
    auto s = subscriptions();
    return std::find(s.begin(), s.end(), filter) != s.end();
  }
};

}  // namespace pharos::agent::testing
