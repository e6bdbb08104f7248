// Registration, health (session rule), node.* operations and node removal, through the
// FakeBroker exactly as agents and pharosctl talk to the anchor.
#include "anchor/health.h"
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

TEST_CASE("the anchor publishes anchor/status online, and offline as its will") {
  AnchorFixture f;
  auto status = f.retainedJson(topics::anchorStatus());
  REQUIRE(status);
  CHECK((*status)["state"] == "online");
  f.killAnchor();
  status = f.retainedJson(topics::anchorStatus());
  REQUIRE(status);
  CHECK((*status)["state"] == "offline");
}

TEST_CASE("a clean shutdown publishes anchor/status offline") {
  AnchorFixture f;
  f.stopAnchor();
  auto status = f.retainedJson(topics::anchorStatus());
  REQUIRE(status);
  CHECK((*status)["state"] == "offline");
}

TEST_CASE("a node registers on first info and status and gets desired, secrets and health") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  const NodeRecord* node = f.anchor().registry().findNode("n1");
  REQUIRE(node);
  CHECK(node->registration == Registration::kAccepted);
  auto desired = f.nodeDoc("n1");
  REQUIRE(desired);
  CHECK((*desired)["generation"] == 1);
  CHECK((*desired)["epoch"] == f.anchor().registry().epoch());
  CHECK((*desired)["apps"].empty());
  auto secrets = f.secretsOf("n1");
  REQUIRE(secrets);
  CHECK((*secrets)["generation"] == 1);
  auto health = f.retainedJson(topics::node("n1", NodeTopic::kHealth));
  REQUIRE(health);
  CHECK((*health)["state"] == "Ready");
  CHECK((*health)["session"] == 1000);
  auto got = f.ok("node.get", {{"name", "n1"}});
  CHECK(got["health"] == "Ready");
  CHECK(got["hostname"] == "n1");
  CHECK(got["registration"] == "accepted");
}

TEST_CASE("status alone or info alone does not register a node") {
  AnchorFixture f;
  f.publishAs("n1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 1));
  CHECK_FALSE(f.anchor().registry().findNode("n1"));
  f.publishAs("n2", NodeTopic::kInfo, infoPayload("n2"));
  CHECK_FALSE(f.anchor().registry().findNode("n2"));
  f.publishAs("n2", NodeTopic::kStatus, statusPayload(Readiness::kReady, 1));
  CHECK(f.anchor().registry().findNode("n2"));
}

TEST_CASE("a killed agent turns NotReady and a will older than the newest Ready is ignored") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.broker().kill("n1");
  f.pump();
  CHECK((*f.retainedJson(topics::node("n1", NodeTopic::kHealth)))["state"] == "NotReady");
  // The agent restarts with a newer session; the late will of the old one is ignored.
  f.nodeOnline("n1", 2000);
  CHECK((*f.retainedJson(topics::node("n1", NodeTopic::kHealth)))["state"] == "Ready");
  f.publishAs("n1", NodeTopic::kStatus, statusPayload(Readiness::kNotReady, 1000, "late will"));
  auto health = f.retainedJson(topics::node("n1", NodeTopic::kHealth));
  CHECK((*health)["state"] == "Ready");
  CHECK((*health)["session"] == 2000);
  // Transitions are recorded with their time.
  auto got = f.ok("node.get", {{"name", "n1"}});
  REQUIRE(got["history"].size() == 3);
  CHECK(got["history"][0]["state"] == "Ready");
  CHECK(got["history"][1]["state"] == "NotReady");
  CHECK(got["history"][2]["state"] == "Ready");
}

TEST_CASE("the session rule: equal sessions apply, older are ignored") {
  NodeHealthRecord r;
  CHECK(acceptStatus(r, NodeStatus{Readiness::kReady, 10, "", 0}));
  CHECK(updateVerdict(r, Registration::kAccepted, 5) == HealthChange::kTransition);
  CHECK_FALSE(acceptStatus(r, NodeStatus{Readiness::kNotReady, 9, "", 0}));
  CHECK(acceptStatus(r, NodeStatus{Readiness::kNotReady, 10, "engine down", 0}));
  CHECK(updateVerdict(r, Registration::kAccepted, 6) == HealthChange::kTransition);
  CHECK(r.health.state == Readiness::kNotReady);
  CHECK(r.health.since == 6);
  CHECK(updateVerdict(r, Registration::kAccepted, 7) == HealthChange::kNone);
  CHECK(updateVerdict(r, Registration::kPending, 8) == HealthChange::kTransition);
  CHECK(r.health.state == Readiness::kPending);
  for (int i = 0; i < 100; ++i) {
    (void)updateVerdict(r, i % 2 ? Registration::kPending : Registration::kAccepted, 9 + i);
  }
  CHECK(r.history.size() == kMaxHealthHistory);
}

TEST_CASE("with require_approval a node is Pending without a desired document until approved") {
  AnchorOptions config;
  config.require_approval = true;
  AnchorFixture f(config);
  f.nodeOnline("n1", 1000);
  CHECK(f.anchor().registry().findNode("n1")->registration == Registration::kPending);
  CHECK_FALSE(f.nodeDoc("n1"));
  CHECK((*f.retainedJson(topics::node("n1", NodeTopic::kHealth)))["state"] == "Pending");
  CHECK(f.ok("node.get", {{"name", "n1"}})["health"] == "Pending");
  CHECK(f.ok("node.list", Json::object())["nodes"][0]["registration"] == "pending");
  auto approved = f.ok("node.approve", {{"name", "n1"}});
  CHECK(approved["registration"] == "accepted");
  CHECK(f.nodeDoc("n1"));
  CHECK((*f.retainedJson(topics::node("n1", NodeTopic::kHealth)))["state"] == "Ready");
  // Approving again is fine.
  CHECK(f.ok("node.approve", {{"name", "n1"}})["registration"] == "accepted");
  CHECK(f.errorCode("node.approve", {{"name", "nope"}}) == "not_found");
}

TEST_CASE("malformed agent messages are dropped and change nothing") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  size_t writes = f.store().writes();
  auto before = f.anchor().registry().docStates();
  for (const char* bad : {"", "{", "[]", "null", "{\"v\":2,\"state\":\"Ready\"}",
                          "{\"v\":1,\"state\":\"Sleepy\",\"session\":1}",
                          "{\"v\":1,\"state\":\"NotReady\",\"session\":\"x\"}",
                          "{\"v\":1,\"apps\":[{\"name\":\"BAD NAME\"}]}"}) {
    for (NodeTopic t : {NodeTopic::kStatus, NodeTopic::kInfo, NodeTopic::kState, NodeTopic::kEvents,
                        NodeTopic::kMetrics}) {
      f.publishAs("n1", t, bad, false);
    }
  }
  CHECK(f.anchor().registry().docStates() == before);
  CHECK((*f.retainedJson(topics::node("n1", NodeTopic::kHealth)))["state"] == "Ready");
  CHECK(f.store().writes() == writes);
  // Invalid node names in topics are ignored; nothing registers.
  f.broker().publish(message("pharos/v1/nodes/BAD!/status", statusPayload(Readiness::kReady, 1)));
  f.broker().publish(message("pharos/v1/nodes/BAD!/info", infoPayload("x")));
  f.pump();
  CHECK(f.anchor().registry().nodes().size() == 1);
}

TEST_CASE("node.list filters by label, group and health and paginates") {
  AnchorFixture f;
  for (int i = 0; i < 5; ++i) f.nodeOnline("n" + std::to_string(i), 1000 + i);
  f.ok("node.label", {{"name", "n1"}, {"set", {{"zone", "a"}}}});
  f.ok("node.label", {{"name", "n2"}, {"set", {{"zone", "b"}}}});
  f.ok("group.create", {{"name", "line1"}});
  f.ok("group.add", {{"group", "line1"}, {"nodes", {"n3", "n4"}}});
  f.broker().kill("n4");
  f.pump();

  auto names = [](const Json& result) {
    std::vector<std::string> out;
    for (const auto& n : result["nodes"]) out.push_back(n["name"]);
    return out;
  };
  CHECK(names(f.ok("node.list", {{"label", "zone"}})) == std::vector<std::string>{"n1", "n2"});
  CHECK(names(f.ok("node.list", {{"label", "zone=b"}})) == std::vector<std::string>{"n2"});
  CHECK(names(f.ok("node.list", {{"group", "line1"}})) == std::vector<std::string>{"n3", "n4"});
  CHECK(names(f.ok("node.list", {{"health", "NotReady"}})) == std::vector<std::string>{"n4"});
  auto page1 = f.ok("node.list", {{"limit", 2}});
  CHECK(names(page1) == std::vector<std::string>{"n0", "n1"});
  REQUIRE(page1.contains("next"));
  auto page2 = f.ok("node.list", {{"limit", 2}, {"cursor", page1["next"]}});
  CHECK(names(page2) == std::vector<std::string>{"n2", "n3"});
  auto page3 = f.ok("node.list", {{"limit", 2}, {"cursor", page2["next"]}});
  CHECK(names(page3) == std::vector<std::string>{"n4"});
  CHECK_FALSE(page3.contains("next"));
  CHECK(f.errorCode("node.list", {{"group", "nope"}}) == "not_found");
  CHECK(f.errorCode("node.list", {{"limit", 0}}) == "invalid_argument");
  CHECK(f.errorCode("node.list", {{"health", "Sleepy"}}) == "invalid_argument");
}

TEST_CASE("node.label changes the labels in the node's desired document") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  auto r = f.ok("node.label", {{"name", "n1"}, {"set", {{"zone", "a"}, {"floor", "2"}}}});
  CHECK(r["labels"]["zone"] == "a");
  auto doc = f.nodeDoc("n1");
  CHECK((*doc)["generation"] == 2);
  CHECK((*doc)["labels"]["floor"] == "2");
  f.ok("node.label", {{"name", "n1"}, {"remove", {"floor"}}});
  doc = f.nodeDoc("n1");
  CHECK((*doc)["generation"] == 3);
  CHECK_FALSE((*doc)["labels"].contains("floor"));
  CHECK(f.errorCode("node.label", {{"name", "nope"}, {"set", {{"a", "b"}}}}) == "not_found");
  CHECK(f.errorCode("node.label", {{"name", "n1"}, {"set", {{"Bad Key", "b"}}}}) ==
        "invalid_argument");
}

TEST_CASE("node.add creates the broker identity and returns the agent config") {
  AnchorFixture f;
  auto r = f.ok("node.add", {{"name", "edge7"}, {"labels", {{"zone", "a"}}}});
  CHECK(r["name"] == "edge7");
  CHECK(r["username"] == "edge7");
  CHECK(r["password"] == "pw-edge7");
  CHECK(r["config"].get<std::string>().find("node_id = edge7") != std::string::npos);
  CHECK(f.admin().created == std::vector<std::string>{"edge7"});
  const NodeRecord* node = f.anchor().registry().findNode("edge7");
  REQUIRE(node);
  CHECK(node->enrolled);
  CHECK(node->labels.at("zone") == "a");
  CHECK(f.nodeDoc("edge7"));
  CHECK((*f.retainedJson(topics::node("edge7", NodeTopic::kHealth)))["state"] == "NotReady");
  CHECK(f.errorCode("node.add", {{"name", "edge7"}}) == "already_exists");
  CHECK(f.errorCode("node.add", {{"name", "Edge!"}}) == "invalid_argument");
  // The broker refusing the identity is an error and nothing is stored.
  f.admin().fail = Status::unavailable("broker did not answer");
  CHECK(f.errorCode("node.add", {{"name", "edge8"}}) == "unavailable");
  CHECK_FALSE(f.anchor().registry().findNode("edge8"));
}

TEST_CASE("node.remove deletes the identity and clears the node's retained topics") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("group.create", {{"name", "g"}});
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1"}}});
  f.ok("app.deploy", {{"name", "web"}, {"target", {{"node", "n1"}}}, {"compose", kCompose}});
  f.reportState("n1", {{"web", 1}});
  auto r = f.ok("node.remove", {{"name", "n1"}});
  CHECK(r["removed"] == true);
  CHECK(f.admin().deleted == std::vector<std::string>{"n1"});
  CHECK_FALSE(f.anchor().registry().findNode("n1"));
  CHECK_FALSE(f.anchor().registry().findApp("web"));
  CHECK(f.anchor().registry().findGroup("g")->nodes.empty());
  for (NodeTopic t : {NodeTopic::kStatus, NodeTopic::kInfo, NodeTopic::kState, NodeTopic::kHealth,
                      NodeTopic::kDesired, NodeTopic::kSecrets}) {
    INFO(topics::nodeTopicName(t));
    CHECK_FALSE(f.broker().retained(topics::node("n1", t)));
  }
  CHECK(f.errorCode("node.remove", {{"name", "n1"}}) == "not_found");
  // A message the removed agent still sends does not register it again right away.
  f.publishAs("n1", NodeTopic::kInfo, infoPayload("n1"));
  f.publishAs("n1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 5000));
  CHECK_FALSE(f.anchor().registry().findNode("n1"));
}

TEST_CASE("node.remove with purge tombstones the node's apps and waits for them to be gone") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("app.deploy", {{"name", "web"}, {"target", {{"node", "n1"}}}, {"compose", kCompose}});
  f.reportState("n1", {{"web", 1}});
  auto r = f.ok("node.remove", {{"name", "n1"}, {"purge", true}});
  CHECK(r["state"] == "removing");
  auto doc = f.nodeDoc("n1");
  REQUIRE(doc);
  REQUIRE((*doc)["apps"].size() == 1);
  CHECK((*doc)["apps"][0]["state"] == "removed");
  f.advance(std::chrono::milliseconds(1500));
  CHECK(f.anchor().registry().findNode("n1"));  // still reporting the app
  CHECK(f.admin().deleted.empty());
  f.reportState("n1", {});
  f.advance(std::chrono::milliseconds(1500));
  CHECK_FALSE(f.anchor().registry().findNode("n1"));
  CHECK(f.admin().deleted == std::vector<std::string>{"n1"});
  CHECK_FALSE(f.nodeDoc("n1"));
}

TEST_CASE("node.remove fails cleanly when the broker cannot delete the identity") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.admin().fail = Status::unavailable("broker did not answer");
  CHECK(f.errorCode("node.remove", {{"name", "n1"}}) == "unavailable");
  CHECK(f.anchor().registry().findNode("n1"));
  CHECK(f.nodeDoc("n1"));
}
