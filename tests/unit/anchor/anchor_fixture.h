// Test fixture for the anchor core: a MemoryStore, the FakeBroker (queued delivery), a
// ManualExecutor + ManualClock, and a FakeBrokerAdmin that answers at once (or fails on
// demand). Requests go through MQTT exactly like pharosctl's (MQTT 5 response topic and
// correlation data); pump() runs broker deliveries and strand tasks until both are idle.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "anchor/anchor.h"
#include "anchor/broker_admin.h"
#include "anchor/memory_store.h"
#include "anchor/op_context.h"
#include "anchor/store.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/fake_broker.h"
#include "pharos/json.h"
#include "pharos/log.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"
#include "pharos/messages.h"
#include "pharos/sealed.h"
#include "pharos/topics.h"

namespace pharos::anchor::testing {

class FakeBrokerAdmin : public BrokerAdmin {
 public:
  void createNode(const std::string& node, const std::set<std::string>& groups,
                  CreateDone done) override {
    created.push_back(node);
    if (fail) return done(*fail);
    AgentCredentials c;
    c.node = node;
    c.username = node;
    c.password = "pw-" + node;
    c.broker_url = "tcp://127.0.0.1:1883";
    c.config_text = agentConfigText(c);
    for (const auto& g : groups) acl[node].insert(g);
    done(std::move(c));
  }
  void deleteNode(const std::string& node, Done done) override {
    deleted.push_back(node);
    if (fail) return done(*fail);
    acl.erase(node);
    done(Status::ok());
  }
  void updateNodeGroups(const std::string& node, const std::set<std::string>& added,
                        const std::set<std::string>& removed) override {
    for (const auto& g : added) acl[node].insert(g);
    for (const auto& g : removed) acl[node].erase(g);
  }
  void syncLineNodeGroups(const std::string& line, const std::string& node,
                          const std::set<std::string>& groups) override {
    line_acl[line][node] = groups;
    ++line_syncs;
  }
  // Keeps the plan (read when the test asks, as the real admin reads it after the broker's
  // lists arrive) and answers line_reconcile_result.
  void reconcileLineIdentities(const std::string& line, std::function<IdentityPlan()> plan,
                               IdentityDone done) override {
    line_plans[line] = std::move(plan);
    ++line_reconciles[line];
    if (line_reconcile_fail) return done(*line_reconcile_fail);
    done(line_reconcile_result);
  }
  void removeLineNode(const std::string& line, const std::string& node) override {
    line_removed.emplace_back(line, node);
    line_acl[line].erase(node);
  }
  void lookupUser(const std::string& user, UserDone done) override {
    lookups.push_back(user);
    if (fail_lookup) return done(*fail_lookup);
    BrokerUser u;
    u.found = true;
    if (user == "viewer") {
      u.groups = {"viewers"};
      u.roles = {"viewer-viewer"};
    } else {
      u.groups = {"operators"};
    }
    done(u);
  }
  std::vector<std::string> subscriptions() const override { return {}; }
  void onMessage(const MqttMessage&) override {}

  std::optional<Status> fail;
  std::optional<Status> fail_lookup;
  std::vector<std::string> lookups;
  std::vector<std::string> created;
  std::vector<std::string> deleted;
  std::map<std::string, std::set<std::string>> acl;
  // Line brokers: line -> node -> groups (syncLineNodeGroups), and how many syncs were asked.
  std::map<std::string, std::map<std::string, std::set<std::string>>> line_acl;
  int line_syncs = 0;
  std::vector<std::pair<std::string, std::string>> line_removed;    // (line, node)
  std::map<std::string, std::function<IdentityPlan()>> line_plans;  // reconcileLineIdentities
  std::map<std::string, int> line_reconciles;
  std::optional<Status> line_reconcile_fail;
  IdentityReport line_reconcile_result;
};

inline MqttMessage message(std::string topic, std::string payload, bool retained = false) {
  MqttMessage m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.retained = retained;
  return m;
}

inline std::string statusPayload(Readiness state, int64_t session, const std::string& reason = "") {
  return dumpJson(encode(NodeStatus{state, session, reason, session}));
}

// A node's key pair in these tests: derived from its name, so every test knows it.
inline sealed::KeyPair testNodeKeys(const std::string& node) {
  std::string secret(sealed::kSecretKeyBytes, '\x5a');
  for (size_t i = 0; i < node.size(); ++i) secret[i % secret.size()] ^= node[i];
  return *sealed::keyPairFromSecret(secret);
}

// The info of a node whose hostname is its name, announcing testNodeKeys(hostname).
inline std::string infoPayload(const std::string& hostname) {
  NodeInfo info;
  info.agent_version = "0.1.0";
  info.hostname = hostname;
  info.os = "linux";
  info.arch = "x86_64";
  info.public_key = sealed::toBase64(testNodeKeys(hostname).public_key);
  return dumpJson(encode(info));
}

// The at-rest key of the fixture's anchor (the same across restarts of one store).
inline const std::string kTestSecretsKey(sealed::kStoreKeyBytes, '\x07');

// How many store keys start with `prefix`.
inline size_t keysUnder(Store& store, const std::string& prefix) {
  size_t n = 0;
  REQUIRE(store
              .scan(prefix,
                    [&](std::string_view, std::string_view) {
                      ++n;
                      return true;
                    })
              .isOk());
  return n;
}

inline const char* kCompose = "services:\n  web:\n    image: nginx:1.25\n";
inline const char* kCompose2 = "services:\n  web:\n    image: nginx:1.26\n";

// The parts an OpContext reaches, with no MQTT at all: a MemoryStore, a publisher that
// captures what it would send, a ManualClock, the fake broker admin. For the operation
// classes' tests (app_ops.h, node_ops.h, group_ops.h).
struct OpsFixture {
  AnchorOptions config;
  MemoryStore store;
  Registry reg;
  EventLog events{store, 1000};
  std::vector<MqttMessage> sent;
  DocPublisher publisher{reg, store, [this](const MqttMessage& m) {
                           sent.push_back(m);
                           return Status::ok();
                         }};
  ManualClock clock;
  ManualExecutor executor{clock};
  std::shared_ptr<Strand> strand = Strand::create(executor);
  std::map<std::string, NodeState> node_states;
  RolloutTracker rollouts{config, reg, node_states, publisher, *strand, clock};
  FakeBrokerAdmin admin;
  OpContext ctx{config, reg, store, events, publisher, rollouts, admin, clock};

  OpsFixture() {
    reg.setSecretsKey(kTestSecretsKey);
    REQUIRE(reg.load(store).isOk());
    publisher.setConnected(true);
  }

  // A registered node (accepted), its document published; `sent` is cleared.
  void addNode(const std::string& name) {
    Txn txn(reg);
    NodeRecord node;
    node.name = name;
    txn.putNode(std::move(node));
    txn.docs().touchNode(name);
    REQUIRE(publisher.commit(txn).isOk());
    sent.clear();
  }

  std::vector<std::string> topicsSent() const {
    std::vector<std::string> out;
    for (const auto& m : sent) out.push_back(m.topic);
    return out;
  }
};

class AnchorFixture {
 public:
  explicit AnchorFixture(AnchorOptions config = {}) : config_(std::move(config)) {
    spdlog::set_level(spdlog::level::err);
    if (config_.secrets_key.empty()) config_.secrets_key = kTestSecretsKey;
    store_ = std::make_shared<MemoryStore>();
    ops_ = makeFakeLink(broker_, "ops");
    ops_->onMessage([this](const MqttMessage& m) { replies_.push_back(m); });
    REQUIRE(ops_->connect().isOk());
    REQUIRE(ops_->subscribe(topics::allReplies("ops")).isOk());
    REQUIRE(ops_->subscribe(topics::allReplies("viewer")).isOk());
    startAnchor();
  }

  ~AnchorFixture() { stopAnchor(); }

  void startAnchor() {
    MqttOptions opts;
    opts.client_id = "pharos-anchor";
    opts.will = Anchor::willMessage(clock_);
    link_ = makeFakeLink(broker_, opts);
    strand_ = Strand::create(executor_);
    anchor_ = std::make_unique<Anchor>(config_, *store_, *link_, admin_, strand_, clock_);
    REQUIRE(anchor_->start().isOk());
    REQUIRE(link_->connect().isOk());
    pump();
  }

  // The anchor process dies (kill -9): no clean shutdown, its will fires.
  void killAnchor() {
    broker_.kill("pharos-anchor");
    pump();
    anchor_.reset();
    link_.reset();
    strand_.reset();
    pump();
  }

  void stopAnchor() {
    if (!anchor_) return;
    strand_->post([this] { anchor_->stop(); });
    pump();
    link_->disconnect();
    anchor_.reset();
    link_.reset();
    strand_.reset();
  }

  void pump() {
    for (int i = 0; i < 1000; ++i) {
      size_t n = broker_.deliverAll();
      n += static_cast<size_t>(executor_.runUntilIdle());
      if (n == 0) return;
    }
    FAIL("pump did not settle");
  }

  // Advances time (running timers) and settles.
  void advance(std::chrono::milliseconds by) {
    for (auto step = std::chrono::milliseconds(0); step < by;
         step += std::chrono::milliseconds(50)) {
      executor_.advance(std::chrono::milliseconds(50));
      pump();
    }
  }

  // Sends a request as `user` (MQTT 5 properties) and returns the decoded reply body.
  Json request(const std::string& op, Json body, const std::string& user = "ops") {
    if (body.is_object() && !body.contains("v")) body["v"] = 1;
    return requestRaw(op, dumpJson(body), user);
  }

  Json requestRaw(const std::string& op, const std::string& payload,
                  const std::string& user = "ops") {
    std::string corr = "c" + std::to_string(++corr_);
    MqttMessage m = message(topics::apiRequest(user, op), payload);
    m.response_topic = topics::replies(user, "r1");
    m.correlation_data = corr;
    replies_.clear();
    REQUIRE(ops_->publish(m).isOk());
    pump();
    for (const auto& r : replies_) {
      if (r.correlation_data == corr) {
        auto json = parseJson(r.payload, size_t{64} << 20);
        REQUIRE(json.isOk());
        return *json;
      }
    }
    return Json();  // no answer
  }

  Json ok(const std::string& op, Json body) {
    Json r = request(op, std::move(body));
    INFO(op << " -> " << r.dump());
    REQUIRE(r.is_object());
    REQUIRE(r["ok"] == true);
    return r["result"];
  }

  std::string errorCode(const std::string& op, Json body, const std::string& user = "ops") {
    Json r = request(op, std::move(body), user);
    INFO(op << " -> " << r.dump());
    REQUIRE(r.is_object());
    REQUIRE(r["ok"] == false);
    return r["error"]["code"].get<std::string>();
  }

  // A node's agent: connects with its NotReady will, publishes info and Ready.
  MqttLink& nodeOnline(const std::string& node, int64_t session) {
    MqttOptions opts;
    opts.client_id = node;
    opts.will = message(topics::node(node, topics::NodeTopic::kStatus),
                        statusPayload(Readiness::kNotReady, session, "connection lost"), true);
    auto& link = nodes_[node];
    link = makeFakeLink(broker_, opts);
    REQUIRE(link->connect().isOk());
    REQUIRE(link->publish(
                    message(topics::node(node, topics::NodeTopic::kInfo), infoPayload(node), true))
                .isOk());
    REQUIRE(link->publish(message(topics::node(node, topics::NodeTopic::kStatus),
                                  statusPayload(Readiness::kReady, session, "connected"), true))
                .isOk());
    pump();
    return *link;
  }

  void publishAs(const std::string& node, topics::NodeTopic kind, const std::string& payload,
                 bool retained = true) {
    broker_.publish(message(topics::node(node, kind), payload, retained));
    pump();
  }

  // Reports the node's state as running these apps at these revisions.
  void reportState(const std::string& node, const std::map<std::string, int64_t>& apps,
                   AppPhase phase = AppPhase::kRunning) {
    NodeState state;
    for (const auto& [name, rev] : apps) {
      AppState a;
      a.name = name;
      a.revision = rev;
      a.phase = phase;
      ServiceState s;
      s.name = "web";
      bool running = phase == AppPhase::kRunning;
      s.state = running ? ContainerState::kRunning : ContainerState::kExited;
      s.exit_code = running ? 0 : 1;
      a.services.push_back(s);
      state.apps.push_back(a);
    }
    state.ts = clock_.nowMs();
    publishAs(node, topics::NodeTopic::kState, dumpJson(encode(state)));
  }

  std::optional<Json> retainedJson(const std::string& topic) {
    auto m = broker_.retained(topic);
    if (!m || m->payload.empty()) return std::nullopt;
    auto j = parseJson(m->payload, size_t{64} << 20);
    REQUIRE(j.isOk());
    return *j;
  }

  // The node's retained secrets document opened with testNodeKeys(node): its content
  // (variables, registries, ...), or nullopt when there is none. Fails the test when it
  // cannot be opened.
  std::optional<Json> secretsOf(const std::string& node) {
    auto m = broker_.retained(topics::node(node, topics::NodeTopic::kSecrets));
    if (!m || m->payload.empty()) return std::nullopt;
    auto envelope = decodeSealedSecrets(m->payload);
    REQUIRE(envelope.isOk());
    sealed::KeyPair keys = testNodeKeys(node);
    auto doc = openSecrets(*envelope, node, keys.public_key, keys.secret_key);
    INFO(node << ": " << doc.status().toString());
    REQUIRE(doc.isOk());
    return encode(*doc);
  }

  std::optional<Json> nodeDoc(const std::string& node) {
    return retainedJson(topics::node(node, topics::NodeTopic::kDesired));
  }
  std::optional<Json> groupDoc(const std::string& group) {
    return retainedJson(topics::groupDesired(group));
  }

  Anchor& anchor() { return *anchor_; }
  FakeBroker& broker() { return broker_; }
  MemoryStore& store() { return *store_; }
  FakeBrokerAdmin& admin() { return admin_; }
  ManualClock& clock() { return clock_; }
  std::vector<MqttMessage>& replies() { return replies_; }
  MqttLink& ops() { return *ops_; }
  AnchorOptions& config() { return config_; }

 private:
  AnchorOptions config_;
  ManualClock clock_;
  ManualExecutor executor_{clock_};
  FakeBroker broker_;
  std::shared_ptr<MemoryStore> store_;
  FakeBrokerAdmin admin_;
  std::unique_ptr<MqttLink> ops_;
  std::unique_ptr<MqttLink> link_;
  std::shared_ptr<Strand> strand_;
  std::unique_ptr<Anchor> anchor_;
  std::vector<MqttMessage> replies_;
  std::map<std::string, std::unique_ptr<MqttLink>> nodes_;
  int corr_ = 0;
};

}  // namespace pharos::anchor::testing
