// NodeOps and GroupOps (node_ops.h, group_ops.h) over an OpContext with no MQTT at all: a
// MemoryStore, a publisher that captures what it would send, a ManualClock, the fake broker
// admin and a NodeWatch that records what the operations ask of the monitors.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "anchor/app_ops.h"
#include "anchor/group_ops.h"
#include "anchor/memory_store.h"
#include "anchor/node_ops.h"
#include "anchor_fixture.h"
#include "pharos/manual_clock.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

namespace {

class RecordingWatch : public NodeWatch {
 public:
  bool onLine(const std::string& node) const override { return on_line.count(node) > 0; }
  void syncLineRights(const std::string& node) override { line_synced.push_back(node); }
  void releaseLine(const std::string& node) override { released.push_back(node); }
  void refreshHealth(const std::string& node) override { refreshed.push_back(node); }
  void enrolled(const std::string& node) override { enrolled_nodes.push_back(node); }
  void removed(const std::string& node) override { removed_nodes.push_back(node); }
  const Json* metrics(const std::string& node) const override {
    auto it = node_metrics.find(node);
    return it == node_metrics.end() ? nullptr : &it->second;
  }
  const NodeState* reported(const std::string& node) const override {
    auto it = states.find(node);
    return it == states.end() ? nullptr : &it->second;
  }

  std::set<std::string> on_line;
  std::map<std::string, Json> node_metrics;
  std::map<std::string, NodeState> states;
  std::vector<std::string> line_synced, released, refreshed, enrolled_nodes, removed_nodes;
};

struct Ops : OpsFixture {
  RecordingWatch watch;
  NodeOps nodes{ctx, watch};
  GroupOps groups{ctx, watch};
  AppOps apps{ctx};

  Ops() {
    addNode("n1");
    addNode("n2");
  }

  Result<Json> deployTo(const Json& target) {
    return apps.deploy("ops",
                       Json{{"v", 1}, {"name", "web"}, {"target", target}, {"compose", kCompose}});
  }

  // Runs an operation that answers through a callback; the fake admin answers at once.
  Result<Json> call(void (NodeOps::*op)(const std::string&, const Json&, NodeOps::Reply),
                    const Json& body) {
    std::optional<Result<Json>> answer;
    (nodes.*op)("ops", body, [&](Result<Json> r) { answer = std::move(r); });
    REQUIRE(answer.has_value());
    return *answer;
  }

  bool sentEmpty(const std::string& topic) const {
    return std::any_of(sent.begin(), sent.end(), [&](const MqttMessage& m) {
      return m.topic == topic && m.payload.empty() && m.retained;
    });
  }
};

Json named(const std::string& name) { return Json{{"v", 1}, {"name", name}}; }

}  // namespace

TEST_CASE("node.add creates the broker identity first, then stores the node as enrolled") {
  Ops o;
  auto added = o.call(&NodeOps::add, Json{{"v", 1}, {"name", "n3"}, {"labels", {{"line", "a"}}}});
  REQUIRE(added.isOk());
  CHECK((*added)["username"] == "n3");
  CHECK(o.admin.created == std::vector<std::string>{"n3"});
  const NodeRecord* node = o.reg.findNode("n3");
  REQUIRE(node != nullptr);
  CHECK(node->enrolled);
  CHECK(node->added_by == "ops");
  CHECK(node->labels.at("line") == "a");
  CHECK(o.watch.enrolled_nodes == std::vector<std::string>{"n3"});
}

TEST_CASE("node.add of a known node is refused before any identity is made") {
  Ops o;
  auto again = o.call(&NodeOps::add, named("n1"));
  REQUIRE_FALSE(again.isOk());
  CHECK(again.status().code() == Code::kAlreadyExists);
  CHECK(o.admin.created.empty());
}

TEST_CASE("node.add whose identity cannot be made stores nothing") {
  Ops o;
  o.admin.fail = Status::unavailable("broker down");
  auto added = o.call(&NodeOps::add, named("n3"));
  REQUIRE_FALSE(added.isOk());
  CHECK(added.status().code() == Code::kUnavailable);
  CHECK(o.reg.findNode("n3") == nullptr);
  CHECK(o.watch.enrolled_nodes.empty());
}

TEST_CASE("node.get shows the metrics and the reported phase the watch holds") {
  Ops o;
  REQUIRE(
      o.apps
          .deploy(
              "ops",
              Json{{"v", 1}, {"name", "web"}, {"target", {{"node", "n1"}}}, {"compose", kCompose}})
          .isOk());
  o.watch.node_metrics["n1"] = Json{{"cpu_percent", 12.5}};
  NodeState state;
  AppState app;
  app.name = "web";
  app.revision = 1;
  app.phase = AppPhase::kRunning;
  state.apps.push_back(app);
  o.watch.states["n1"] = state;
  auto got = o.nodes.get(named("n1"));
  REQUIRE(got.isOk());
  CHECK((*got)["metrics"]["cpu_percent"] == 12.5);
  REQUIRE((*got)["apps"].size() == 1);
  CHECK((*got)["apps"][0]["reported"]["phase"] == "Running");
  CHECK((*got)["health"] == "NotReady");  // no verdict yet
}

TEST_CASE("node.remove deletes the identity, the records and the retained topics") {
  Ops o;
  auto removed = o.call(&NodeOps::remove, named("n2"));
  REQUIRE(removed.isOk());
  CHECK((*removed)["removed"] == true);
  CHECK(o.admin.deleted == std::vector<std::string>{"n2"});
  CHECK(o.reg.findNode("n2") == nullptr);
  CHECK(o.watch.released == std::vector<std::string>{"n2"});
  CHECK(o.watch.removed_nodes == std::vector<std::string>{"n2"});
  CHECK(o.sentEmpty(topics::node("n2", NodeTopic::kStatus)));
  CHECK(o.sentEmpty(topics::node("n2", NodeTopic::kHealth)));
  CHECK(o.sentEmpty(topics::node("n2", NodeTopic::kDesired)));
}

TEST_CASE("a purge tombstones the node's apps and waits; finishRemoval ends it") {
  Ops o;
  REQUIRE(
      o.apps
          .deploy(
              "ops",
              Json{{"v", 1}, {"name", "web"}, {"target", {{"node", "n1"}}}, {"compose", kCompose}})
          .isOk());
  auto started = o.call(&NodeOps::remove, Json{{"v", 1}, {"name", "n1"}, {"purge", true}});
  REQUIRE(started.isOk());
  CHECK((*started)["state"] == "removing");
  CHECK((*started)["apps"] == Json::array({"web"}));
  CHECK(o.reg.findNode("n1")->registration == Registration::kRemoving);
  CHECK(o.reg.findApp("web")->state == DesiredState::kRemoved);
  CHECK(o.admin.deleted.empty());  // the identity stays until the agent reports the app gone
  std::optional<Result<Json>> done;
  o.nodes.finishRemoval("n1", "anchor", [&](Result<Json> r) { done = std::move(r); });
  REQUIRE(done.has_value());
  REQUIRE(done->isOk());
  CHECK((**done)["apps_dropped"] == Json::array({"web"}));
  CHECK(o.reg.findNode("n1") == nullptr);
  CHECK(o.reg.findApp("web") == nullptr);
}

TEST_CASE("node.approve grants a pending node its groups' read rights and a verdict") {
  Ops o;
  REQUIRE(o.groups.create("ops", named("g1")).isOk());
  {
    Txn txn(o.reg);
    txn.node("n2")->registration = Registration::kPending;
    txn.group("g1")->nodes.insert("n2");
    txn.docs().touchNode("n2");
    REQUIRE(o.publisher.commit(txn).isOk());
  }
  CHECK(o.admin.acl["n2"].empty());
  auto approved = o.nodes.approve("ops", named("n2"));
  REQUIRE(approved.isOk());
  CHECK((*approved)["registration"] == "accepted");
  CHECK(o.admin.acl["n2"] == std::set<std::string>{"g1"});
  CHECK(o.watch.refreshed == std::vector<std::string>{"n2"});
}

TEST_CASE("group.add grants a site node the group's read right through the broker admin") {
  Ops o;
  REQUIRE(o.groups.create("ops", named("g1")).isOk());
  auto added = o.groups.members("ops", Json{{"v", 1}, {"group", "g1"}, {"nodes", {"n1"}}}, true);
  REQUIRE(added.isOk());
  CHECK((*added)["added"]["nodes"] == Json::array({"n1"}));
  CHECK(o.admin.acl["n1"] == std::set<std::string>{"g1"});
  CHECK(o.watch.line_synced.empty());
  auto removed = o.groups.members("ops", Json{{"v", 1}, {"group", "g1"}, {"nodes", {"n1"}}}, false);
  REQUIRE(removed.isOk());
  CHECK(o.admin.acl["n1"].empty());
}

TEST_CASE("group.add syncs the line rights of a node that sits behind a line broker") {
  Ops o;
  o.watch.on_line.insert("n1");
  REQUIRE(o.groups.create("ops", named("g1")).isOk());
  REQUIRE(o.groups.members("ops", Json{{"v", 1}, {"group", "g1"}, {"nodes", {"n1"}}}, true).isOk());
  CHECK(o.watch.line_synced == std::vector<std::string>{"n1"});
  CHECK(o.admin.acl["n1"].empty());  // not on the site broker
}

TEST_CASE("a group added below itself is refused naming the cycle") {
  Ops o;
  REQUIRE(o.groups.create("ops", named("top")).isOk());
  REQUIRE(o.groups.create("ops", Json{{"v", 1}, {"name", "mid"}, {"parent", "top"}}).isOk());
  auto cycle = o.groups.members("ops", Json{{"v", 1}, {"group", "mid"}, {"groups", {"top"}}}, true);
  REQUIRE_FALSE(cycle.isOk());
  CHECK(cycle.status().code() == Code::kConflict);
  CHECK(cycle.status().message().find("top > mid > top") != std::string::npos);
}

TEST_CASE("group.delete refuses a group that holds apps unless forced") {
  Ops o;
  REQUIRE(o.groups.create("ops", named("g1")).isOk());
  REQUIRE(
      o.apps
          .deploy(
              "ops",
              Json{{"v", 1}, {"name", "web"}, {"target", {{"group", "g1"}}}, {"compose", kCompose}})
          .isOk());
  auto refused = o.groups.deleteGroup("ops", named("g1"));
  REQUIRE_FALSE(refused.isOk());
  CHECK(refused.status().code() == Code::kConflict);
  auto forced = o.groups.deleteGroup("ops", Json{{"v", 1}, {"name", "g1"}, {"force", true}});
  REQUIRE(forced.isOk());
  CHECK((*forced)["apps_dropped"] == Json::array({"web"}));
  CHECK(o.reg.findGroup("g1") == nullptr);
  CHECK(o.reg.findApp("web") == nullptr);
}
