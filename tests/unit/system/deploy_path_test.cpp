// The life of one app.deploy (docs/architecture.md), run end to end in one process: the
// anchor and an agent from their libraries, over FakeBroker, FakeDockerClient and one
// ManualClock/ManualExecutor. A pharosctl-shaped request goes in on
// pharos/v1/api/{user}/app.deploy; what comes out is the Engine API create body of the
// service's container. Hermetic and single-threaded.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "../agent/agent_rig.h"
#include "../anchor/anchor_fixture.h"
#include "agent/agent.h"
#include "agent/engine_spec.h"
#include "agent/fake_docker.h"
#include "anchor/anchor.h"
#include "anchor/memory_store.h"
#include "pharos/api.h"
#include "pharos/fake_broker.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"
#include "pharos/topics.h"

namespace {

using namespace pharos;
using std::chrono::milliseconds;

constexpr const char* kNode = "press-01";
constexpr const char* kCompose =
    "services:\n"
    "  web:\n"
    "    image: nginx:1.25\n"
    "    environment:\n"
    "      MODE: ${MODE}\n"
    "    restart: unless-stopped\n";

struct Fleet {
  agent::testing::TempDir dir;
  ManualClock clock;
  ManualExecutor exec{clock};
  FakeBroker broker;
  // The anchor side.
  anchor::MemoryStore store;
  anchor::testing::FakeBrokerAdmin admin;
  std::unique_ptr<MqttLink> anchor_link;
  std::unique_ptr<anchor::Anchor> anchor;
  // The device side.
  agent::FakeDockerClient docker{&clock};
  agent::StateFile state_file{dir.path + "/state.json"};
  std::unique_ptr<agent::Agent> agent;
  // pharosctl's connection.
  std::unique_ptr<MqttLink> ctl;
  std::vector<MqttMessage> replies;

  Fleet() {
    spdlog::set_level(spdlog::level::err);
    anchor::AnchorOptions config;
    config.secrets_key = anchor::testing::kTestSecretsKey;
    MqttOptions opts;
    opts.client_id = "pharos-anchor";
    opts.will = anchor::Anchor::willMessage(clock);
    anchor_link = makeFakeLink(broker, opts);
    anchor = std::make_unique<anchor::Anchor>(config, store, *anchor_link, admin,
                                              Strand::create(exec), clock);
    REQUIRE(anchor->start().isOk());
    REQUIRE(anchor_link->connect().isOk());

    ctl = makeFakeLink(broker, "pharosctl-test");
    ctl->onMessage([this](const MqttMessage& m) { replies.push_back(m); });
    REQUIRE(ctl->connect().isOk());
    REQUIRE(ctl->subscribe(topics::allReplies("ops")).isOk());
    pump();
  }
  ~Fleet() {
    if (agent) agent->stop(false);
    pump();
  }

  void bootAgent() {
    docker.addRegistryImage("nginx:1.25");
    agent::AgentOptions options;
    options.node_id = kNode;
    options.keys = sealed::generateKeyPair();
    options.reconciler.pull_jitter = milliseconds(0);
    options.reconciler.create_app_dirs = false;
    options.reconciler.data_dir = dir.path;
    options.host_metrics = false;
    agent =
        std::make_unique<agent::Agent>(options, exec, docker.api(), clock, state_file,
                                       [this](MqttOptions o) { return makeFakeLink(broker, o); });
    agent->start();
    pump();
  }

  void pump() {
    for (int i = 0; i < 1000; ++i) {
      size_t n = broker.deliverAll();
      n += static_cast<size_t>(exec.runUntilIdle());
      if (n == 0) return;
    }
    FAIL("pump did not settle");
  }
  void advance(milliseconds by) {
    for (auto t = milliseconds(0); t < by; t += milliseconds(50)) {
      exec.advance(milliseconds(50));
      pump();
    }
  }

  // What pharosctl sends: the body on api/ops/{operation} with an MQTT 5 response topic.
  Json call(std::string_view operation, const Json& body) {
    MqttMessage m;
    m.topic = topics::apiRequest("ops", std::string(operation));
    m.payload = dumpJson(body);
    m.response_topic = topics::replies("ops", "pharosctl-test");
    m.correlation_data = "c1";
    m.qos = 1;
    replies.clear();
    REQUIRE(ctl->publish(m).isOk());
    pump();
    REQUIRE(replies.size() == 1);
    auto reply = parseJson(replies.front().payload, size_t{1} << 20);
    REQUIRE(reply.isOk());
    INFO(operation << " -> " << reply->dump());
    REQUIRE((*reply)["ok"] == true);
    return (*reply)["result"];
  }
};

}  // namespace

TEST_CASE("app.deploy travels from the API request to the Engine API create") {
  Fleet fleet;
  fleet.call(ops::kNodeAdd, encode(NodeAddRequest{kNode, {{"line", "a"}}}));
  fleet.bootAgent();

  AppDeployRequest deploy;
  deploy.name = "hello";
  deploy.compose = kCompose;
  deploy.target = Target{Target::Kind::kNode, kNode};
  deploy.variables = {{"MODE", "fast"}};
  Json result = fleet.call(ops::kAppDeploy, encode(deploy));
  CHECK(result["revision"] == 1);

  // The anchor published the node's desired document, retained.
  auto desired = fleet.broker.retained(topics::node(kNode, topics::NodeTopic::kDesired));
  REQUIRE(desired.has_value());
  CHECK(desired->payload.find("\"hello\"") != std::string::npos);

  // The agent pulls the image, then creates and starts the container.
  fleet.advance(milliseconds(2000));
  auto body = fleet.docker.containers().createBody("hello_web_1");
  REQUIRE(body.has_value());
  INFO(body->dump(2));
  CHECK((*body)["Image"] == "nginx:1.25");
  const Json& labels = (*body)["Labels"];
  CHECK(labels[agent::kLabelProject] == "hello");
  CHECK(labels[agent::kLabelService] == "web");
  CHECK(labels[agent::kLabelApp] == "hello");
  CHECK(labels[agent::kLabelNode] == kNode);
  CHECK(labels[agent::kLabelRevision] == "1");
  const Json& env = (*body)["Env"];
  auto has = [&](const std::string& entry) {
    return std::find(env.begin(), env.end(), Json(entry)) != env.end();
  };
  CHECK(has("MODE=fast"));
  CHECK((*body)["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped");
  auto running = fleet.docker.containers().inspectContainer("hello_web_1");
  REQUIRE(running.isOk());
  CHECK(running->running);
}
