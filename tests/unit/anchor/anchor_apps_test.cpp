// Apps: deploy / update / no-op, compose validation with positions, moves (new target
// first, then the tombstone), removal tombstones kept until every target reported the app
// gone, start/stop/restart, history and rollback, secrets kept out of everything but the
// nodes' secrets documents, registry credentials, rollout summaries and events.
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

namespace {
Json deployBody(const std::string& name, Json target, const std::string& compose) {
  return Json{{"name", name}, {"target", std::move(target)}, {"compose", compose}};
}
Json onNode(const std::string& n) { return Json{{"node", n}}; }
Json onGroup(const std::string& g) { return Json{{"group", g}}; }
}  // namespace

TEST_CASE("app.deploy validates, stores a revision and publishes the target document") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  auto r = f.ok("app.deploy", deployBody("web", onNode("n1"), kCompose));
  CHECK(r["revision"] == 1);
  CHECK(r["changed"] == true);
  auto doc = f.nodeDoc("n1");
  REQUIRE((*doc)["apps"].size() == 1);
  CHECK((*doc)["apps"][0]["compose"] == kCompose);
  CHECK((*doc)["apps"][0]["state"] == "running");
  CHECK((*doc)["generation"] == 2);

  // Same compose and variables: a no-op returning the current revision.
  f.broker().clearLog();
  r = f.ok("app.deploy", deployBody("web", onNode("n1"), kCompose));
  CHECK(r["revision"] == 1);
  CHECK(r["changed"] == false);
  CHECK(f.broker().published(topics::allNodes(NodeTopic::kDesired)).empty());
  CHECK(f.broker().published(topics::allNodes(NodeTopic::kSecrets)).empty());

  // A new compose is an update: a new revision.
  r = f.ok("app.deploy", deployBody("web", onNode("n1"), kCompose2));
  CHECK(r["revision"] == 2);
  CHECK((*f.nodeDoc("n1"))["apps"][0]["revision"] == 2);
  CHECK((*f.nodeDoc("n1"))["generation"] == 3);
  auto history = f.ok("app.history", {{"name", "web"}});
  REQUIRE(history["revisions"].size() == 2);
  CHECK(history["revisions"][0]["revision"] == 2);
  CHECK(history["revisions"][0]["current"] == true);
  CHECK(history["revisions"][0]["user"] == "ops");
}

TEST_CASE("a bad compose file is refused with its path, line and column and nothing changes") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  auto gen = f.anchor().registry().docStates().at("node/n1").generation;
  Json r = f.request("app.deploy",
                     deployBody("web", onNode("n1"), "services:\n  web:\n    image: [1, 2]\n"));
  REQUIRE(r["ok"] == false);
  CHECK(r["error"]["code"] == "invalid_argument");
  CHECK(r["error"]["line"] == 3);
  CHECK(r["error"]["column"].get<int>() > 0);
  CHECK(r["error"]["path"].get<std::string>().find("services.web.image") != std::string::npos);
  // An unresolvable ${VAR:?} is an error; given as a deploy variable it resolves.
  const char* needs = "services:\n  web:\n    image: \"nginx:${TAG:?set TAG}\"\n";
  CHECK(f.errorCode("app.deploy", deployBody("web", onNode("n1"), needs)) == "invalid_argument");
  Json body = deployBody("web", onNode("n1"), needs);
  body["variables"] = {{"TAG", "1.25"}};
  f.ok("app.deploy", body);
  // build: is refused; unknown targets and invalid names too.
  CHECK(
      f.errorCode("app.deploy", deployBody("x", onNode("n1"), "services:\n  a:\n    build: .\n")) ==
      "invalid_argument");
  Json unknown = f.request("app.deploy", deployBody("x", onNode("ghost"), kCompose));
  CHECK(unknown["error"]["code"] == "not_found");
  CHECK(unknown["error"]["path"] == "target.node");
  CHECK(f.errorCode("app.deploy", deployBody("x", onGroup("ghost"), kCompose)) == "not_found");
  CHECK(f.errorCode("app.deploy", deployBody("my.app", onNode("n1"), kCompose)) ==
        "invalid_argument");
  CHECK(f.errorCode("app.deploy", {{"name", "x"}, {"target", onNode("n1")}}) == "invalid_argument");
  CHECK(f.errorCode("app.deploy", {{"name", "x"}, {"target", "n1"}, {"compose", kCompose}}) ==
        "invalid_argument");
  CHECK(f.anchor().registry().docStates().at("node/n1").generation == gen + 1);
  CHECK(f.anchor().registry().apps().size() == 1);
}

TEST_CASE("node variables are known when validating: PHAROS_NODE_ID and labels") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  const char* uses =
      "services:\n  web:\n    image: nginx\n    hostname: ${PHAROS_NODE_ID:?}\n"
      "    environment:\n      ZONE: ${PHAROS_LABEL_ZONE:?no zone}\n";
  CHECK(f.errorCode("app.deploy", deployBody("web", onNode("n1"), uses)) == "invalid_argument");
  f.ok("node.label", {{"name", "n1"}, {"set", {{"zone", "a"}}}});
  f.ok("app.deploy", deployBody("web", onNode("n1"), uses));
  f.ok("group.create", {{"name", "g"}});
  f.ok("app.deploy", deployBody("web2", onGroup("g"), uses));
}

TEST_CASE("moving an app publishes the new target first, then a tombstone on the old one") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.nodeOnline("n2", 1000);
  f.ok("app.deploy", deployBody("web", onNode("n1"), kCompose));
  f.reportState("n1", {{"web", 1}});
  f.broker().clearLog();
  auto r = f.ok("app.deploy", deployBody("web", onNode("n2"), kCompose));
  CHECK(r["revision"] == 2);
  auto desired = f.broker().published(topics::allNodes(NodeTopic::kDesired));
  REQUIRE(desired.size() == 2);
  CHECK(desired[0].message.topic == topics::node("n2", NodeTopic::kDesired));
  CHECK(desired[1].message.topic == topics::node("n1", NodeTopic::kDesired));
  auto old_doc = f.nodeDoc("n1");
  REQUIRE((*old_doc)["apps"].size() == 1);
  CHECK((*old_doc)["apps"][0]["state"] == "removed");
  // The tombstone stays until n1 reports the app gone, then is dropped.
  f.advance(std::chrono::milliseconds(1200));
  CHECK((*f.nodeDoc("n1"))["apps"].size() == 1);
  f.reportState("n1", {});
  f.advance(std::chrono::milliseconds(1200));
  CHECK((*f.nodeDoc("n1"))["apps"].empty());
  CHECK(f.anchor().registry().tombs().empty());
}

TEST_CASE("a tombstone left by a move does not wait for the nodes the app moved to") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.nodeOnline("n2", 1000);
  f.ok("group.create", {{"name", "a"}});
  f.ok("group.create", {{"name", "b"}});
  f.ok("group.add", {{"group", "a"}, {"nodes", {"n1", "n2"}}});
  f.ok("group.add", {{"group", "b"}, {"nodes", {"n1"}}});
  f.ok("app.deploy", deployBody("web", onGroup("a"), kCompose));
  f.reportState("n1", {{"web", 1}});
  f.reportState("n2", {{"web", 1}});
  CHECK(f.ok("app.deploy", deployBody("web", onGroup("b"), kCompose))["revision"] == 2);
  CHECK((*f.groupDoc("a"))["apps"][0]["state"] == "removed");
  // n1 is in both groups and keeps running the app; only n2 has to drop it.
  f.reportState("n1", {{"web", 2}});
  f.advance(std::chrono::milliseconds(1200));
  CHECK((*f.groupDoc("a"))["apps"].size() == 1);  // n2 still runs it
  f.reportState("n2", {});
  f.advance(std::chrono::milliseconds(1200));
  CHECK((*f.groupDoc("a"))["apps"].empty());
  CHECK(f.anchor().registry().tombs().empty());
  CHECK((*f.groupDoc("b"))["apps"][0]["state"] == "running");
}

TEST_CASE("app.remove leaves a tombstone until every target node reported the app gone") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.nodeOnline("n2", 1000);
  f.ok("group.create", {{"name", "g"}});
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1", "n2"}}});
  f.ok("app.deploy", deployBody("web", onGroup("g"), kCompose));
  f.reportState("n1", {{"web", 1}});
  f.reportState("n2", {{"web", 1}});
  auto r = f.ok("app.remove", {{"name", "web"}, {"volumes", "delete"}});
  CHECK(r["state"] == "removed");
  auto doc = f.groupDoc("g");
  CHECK((*doc)["apps"][0]["state"] == "removed");
  CHECK((*doc)["apps"][0]["volumes"] == "delete");
  f.reportState("n1", {});
  f.advance(std::chrono::milliseconds(1200));
  CHECK(f.anchor().registry().findApp("web"));  // n2 still has it
  CHECK(f.errorCode("app.start", {{"name", "web"}}) == "conflict");
  f.reportState("n2", {});
  f.advance(std::chrono::milliseconds(1200));
  CHECK_FALSE(f.anchor().registry().findApp("web"));
  CHECK((*f.groupDoc("g"))["apps"].empty());
  CHECK(f.errorCode("app.get", {{"name", "web"}}) == "not_found");
  CHECK(f.errorCode("app.remove", {{"name", "web"}}) == "not_found");
  CHECK(f.errorCode("app.remove", {{"name", "x"}, {"volumes", "maybe"}}) == "invalid_argument");
}

TEST_CASE("app.start, app.stop and app.restart change the document, not the revision") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("app.deploy", deployBody("web", onNode("n1"), kCompose));
  CHECK(f.ok("app.stop", {{"name", "web"}})["state"] == "stopped");
  CHECK((*f.nodeDoc("n1"))["apps"][0]["state"] == "stopped");
  CHECK(f.ok("app.stop", {{"name", "web"}})["changed"] == false);
  CHECK(f.ok("app.start", {{"name", "web"}})["state"] == "running");
  CHECK(f.ok("app.restart", {{"name", "web"}})["restart"] == 1);
  auto app = (*f.nodeDoc("n1"))["apps"][0];
  CHECK(app["restart"] == 1);
  CHECK(app["revision"] == 1);
  for (const char* op : {"app.start", "app.stop", "app.restart", "app.get", "app.history"}) {
    CHECK(f.errorCode(op, {{"name", "nope"}}) == "not_found");
  }
}

TEST_CASE("app.rollback republishes an earlier revision as a new one") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("app.deploy", deployBody("web", onNode("n1"), kCompose));
  f.ok("app.deploy", deployBody("web", onNode("n1"), kCompose2));
  auto r = f.ok("app.rollback", {{"name", "web"}, {"revision", 1}});
  CHECK(r["revision"] == 3);
  auto app = (*f.nodeDoc("n1"))["apps"][0];
  CHECK(app["revision"] == 3);
  CHECK(app["compose"] == kCompose);
  CHECK(f.errorCode("app.rollback", {{"name", "web"}, {"revision", 3}}) == "conflict");
  CHECK(f.errorCode("app.rollback", {{"name", "web"}, {"revision", 99}}) == "not_found");
  CHECK(f.errorCode("app.rollback", {{"name", "web"}, {"revision", 0}}) == "invalid_argument");
  CHECK(f.errorCode("app.rollback", {{"name", "nope"}, {"revision", 1}}) == "not_found");
  auto history = f.ok("app.history", {{"name", "web"}});
  CHECK(history["revisions"][0]["note"] == "rollback to 1");
}

TEST_CASE("secrets reach only the secrets documents of the nodes that need them") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.nodeOnline("n2", 1000);
  f.ok("group.create", {{"name", "g"}});
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1"}}});
  const char* compose =
      "services:\n  db:\n    image: postgres\n    environment:\n"
      "      PASSWORD: ${DB_PASSWORD:?}\n";
  Json body = deployBody("db", onGroup("g"), compose);
  body["secrets"] = {{"DB_PASSWORD", "hunter2"}};
  f.ok("app.deploy", body);
  auto secrets = f.secretsOf("n1");
  CHECK((*secrets)["variables"]["DB_PASSWORD"] == "hunter2");
  CHECK((*f.secretsOf("n2"))["variables"].empty());
  // Never in app.get, group documents, node documents, events.
  auto got = f.ok("app.get", {{"name", "db"}});
  CHECK(got.dump().find("hunter2") == std::string::npos);
  CHECK(got["secrets"] == Json::array({"DB_PASSWORD"}));
  CHECK(f.groupDoc("g")->dump().find("hunter2") == std::string::npos);
  CHECK(f.nodeDoc("n1")->dump().find("hunter2") == std::string::npos);
  CHECK(f.ok("events.query", Json::object()).dump().find("hunter2") == std::string::npos);
  // Redeploying without `secrets` keeps them; the same spec is a no-op.
  CHECK(f.ok("app.deploy", deployBody("db", onGroup("g"), compose))["changed"] == false);
  // Removing n1 from the group takes the secret away from it.
  f.ok("group.remove", {{"group", "g"}, {"nodes", {"n1"}}});
  CHECK((*f.secretsOf("n1"))["variables"].empty());
}

TEST_CASE("a node's new secrets are published before the desired document that uses them") {
  // The broker keeps one publisher's order: an agent then opens the secret before it sees
  // the revision whose compose file refers to it, and never runs that revision without it.
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  const char* compose =
      "services:\n  db:\n    image: postgres\n    environment:\n"
      "      PASSWORD: ${DB_PASSWORD:?}\n";
  Json body = deployBody("db", onNode("n1"), compose);
  body["secrets"] = {{"DB_PASSWORD", "hunter2"}};
  f.broker().clearLog();
  f.ok("app.deploy", body);
  std::vector<std::string> order;
  for (const auto& r : f.broker().publishLog()) {
    const std::string& t = r.message.topic;
    if (t == topics::node("n1", NodeTopic::kSecrets)) order.push_back("secrets");
    if (t == topics::node("n1", NodeTopic::kDesired)) order.push_back("desired");
  }
  CHECK(order == std::vector<std::string>{"secrets", "desired"});
}

TEST_CASE("registry.set puts credentials in the target nodes' secrets only") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.nodeOnline("n2", 1000);
  auto r = f.ok("registry.set", {{"host", "registry.local:5000"},
                                 {"username", "u"},
                                 {"password", "s3cret"},
                                 {"target", onNode("n1")}});
  CHECK(r.dump().find("s3cret") == std::string::npos);
  auto secrets = f.secretsOf("n1");
  REQUIRE((*secrets)["registries"].size() == 1);
  CHECK((*secrets)["registries"][0]["password"] == "s3cret");
  CHECK((*f.secretsOf("n2"))["registries"].empty());
  CHECK(f.errorCode(
            "registry.set",
            {{"host", "r"}, {"username", "u"}, {"password", "p"}, {"target", onGroup("nope")}}) ==
        "not_found");
  CHECK(f.errorCode("registry.set", {{"host", "bad host/x"},
                                     {"username", "u"},
                                     {"password", "p"},
                                     {"target", onNode("n1")}}) == "invalid_argument");
}

TEST_CASE("the rollout summary counts pending, running, failed and notready nodes") {
  AnchorFixture f;
  for (const char* n : {"n1", "n2", "n3", "n4"}) f.nodeOnline(n, 1000);
  f.ok("group.create", {{"name", "g"}});
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1", "n2", "n3", "n4"}}});
  f.ok("app.deploy", deployBody("web", onGroup("g"), kCompose));
  f.reportState("n1", {{"web", 1}});
  f.reportState("n2", {{"web", 1}}, AppPhase::kCrashLoop);
  f.broker().kill("n4");
  f.pump();
  f.advance(std::chrono::milliseconds(300));
  auto rollout = f.retainedJson(topics::appRollout("web"));
  REQUIRE(rollout);
  CHECK((*rollout)["total"] == 4);
  CHECK((*rollout)["running"] == 1);
  CHECK((*rollout)["failed"] == 1);
  CHECK((*rollout)["pending"] == 1);
  CHECK((*rollout)["notready"] == 1);
  auto got = f.ok("app.get", {{"name", "web"}});
  CHECK(got["rollout"]["running"] == 1);
  CHECK(got["rollout"]["nodes"].size() == 4);
  // A NotReady node is never counted as failed even when its last state says Failed.
  f.reportState("n4", {{"web", 1}}, AppPhase::kFailed);
  f.advance(std::chrono::milliseconds(300));
  CHECK((*f.retainedJson(topics::appRollout("web")))["failed"] == 1);
  auto list = f.ok("app.list", Json::object());
  CHECK(list["apps"][0]["rollout"]["notready"] == 1);
}

TEST_CASE("rollout publishes are debounced per app") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("app.deploy", deployBody("web", onNode("n1"), kCompose));
  f.advance(std::chrono::milliseconds(300));
  f.broker().clearLog();
  for (int i = 0; i < 20; ++i)
    f.reportState("n1", {{"web", 1}}, i % 2 ? AppPhase::kRunning : AppPhase::kStarting);
  f.advance(std::chrono::milliseconds(300));
  CHECK(f.broker().published(topics::appRollout("web")).size() <= 2);
}

TEST_CASE("events.query returns node events, health changes and the API audit trail") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("app.deploy", deployBody("web", onNode("n1"), kCompose));
  NodeEvent e;
  e.kind = "container_died";
  e.app = "web";
  e.service = "web";
  e.ts = 5;
  f.publishAs("n1", NodeTopic::kEvents, dumpJson(encode(e)), false);
  f.advance(std::chrono::milliseconds(600));
  auto all = f.ok("events.query", Json::object());
  std::vector<std::string> kinds;
  for (const auto& ev : all["events"]) kinds.push_back(ev["kind"]);
  CHECK(std::find(kinds.begin(), kinds.end(), "container_died") != kinds.end());
  CHECK(std::find(kinds.begin(), kinds.end(), "app.deploy") != kinds.end());
  CHECK(std::find(kinds.begin(), kinds.end(), "node_registered") != kinds.end());
  auto died = f.ok("events.query", {{"kind", "container_died"}});
  REQUIRE(died["events"].size() == 1);
  CHECK(died["events"][0]["node"] == "n1");
  CHECK(f.ok("events.query", {{"app", "web"}, {"limit", 1}})["events"].size() == 1);
  CHECK(f.ok("events.query", {{"node", "n9"}})["events"].empty());
  CHECK(f.ok("events.query", {{"since", f.clock().nowMs() + 100000}})["events"].empty());
  CHECK(f.errorCode("events.query", {{"limit", -1}}) == "invalid_argument");
}

TEST_CASE("events.query tells apart two alike audit entries of one millisecond by their seq") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("node.label", {{"name", "n1"}, {"set", {{"a", "1"}}}});
  f.ok("node.label", {{"name", "n1"}, {"set", {{"a", "2"}}}});
  auto labels = f.ok("events.query", {{"kind", "node.label"}})["events"];
  REQUIRE(labels.size() == 2);
  CHECK(labels[0]["ts"] == labels[1]["ts"]);
  CHECK(labels[0]["seq"].get<int64_t>() < labels[1]["seq"].get<int64_t>());
  // A page from the second one's millisecond holds both again: the caller merges by ts + seq.
  auto again = f.ok("events.query", {{"kind", "node.label"}, {"since", labels[1]["ts"]}});
  CHECK(again["events"] == labels);
}

TEST_CASE("events.query ends its range at until, inclusive, read from either end") {
  AnchorFixture f;
  std::vector<int64_t> at;
  for (int i = 0; i < 5; ++i) {
    at.push_back(f.clock().nowMs());
    f.ok("group.create", {{"name", "g" + std::to_string(i)}});
    f.clock().advance(std::chrono::seconds(10));
  }
  auto groups = [&f](Json body) {
    body["kind"] = "group.create";
    std::string out;
    Json events = f.ok("events.query", body)["events"];
    for (const auto& e : events) out += e["message"].get<std::string>();
    return out;
  };
  CHECK(groups(Json::object()) == "g0g1g2g3g4");
  // Without since: the newest up to until; with a limit, the newest of those.
  CHECK(groups({{"until", at[2]}}) == "g0g1g2");
  CHECK(groups({{"until", at[2]}, {"limit", 2}}) == "g1g2");
  CHECK(groups({{"until", at[2] - 1}}) == "g0g1");
  // With since: the oldest from since on, up to until.
  CHECK(groups({{"since", at[1]}, {"until", at[3]}}) == "g1g2g3");
  CHECK(groups({{"since", at[1]}, {"until", at[1]}}) == "g1");
  CHECK(groups({{"since", at[4] + 1}, {"until", at[4] + 5}}).empty());
  // A range that ends before it starts, or a bound that is not a time, names the field.
  Json r = f.request("events.query", {{"since", at[3]}, {"until", at[1]}});
  CHECK(r["error"]["code"] == "invalid_argument");
  CHECK(r["error"]["path"] == "until");
  CHECK(r["error"]["message"].get<std::string>().find("until") == 0);
  CHECK(f.request("events.query", {{"until", "yesterday"}})["error"]["message"]
            .get<std::string>()
            .find("until") == 0);
}

TEST_CASE("event retention keeps the newest max_events") {
  AnchorOptions config;
  config.max_events = 10;
  AnchorFixture f(config);
  f.nodeOnline("n1", 1000);
  for (int i = 0; i < 30; ++i) {
    NodeEvent e;
    e.kind = "k" + std::to_string(i);
    f.publishAs("n1", NodeTopic::kEvents, dumpJson(encode(e)), false);
    f.clock().advance(std::chrono::milliseconds(1000));  // keep within the rate limit
  }
  f.advance(std::chrono::milliseconds(600));
  auto all = f.ok("events.query", {{"limit", 100}});
  CHECK(all["events"].size() <= 10);
  CHECK(all["events"].back()["kind"] == "k29");
}
