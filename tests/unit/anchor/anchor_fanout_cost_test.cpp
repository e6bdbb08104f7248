// The cost of a group change (fan-out): an app without secrets renders only its
// target document, never the secrets documents of the group's members; an app with secrets
// (before or after the change) still updates every member's secrets document.
#include "anchor/memory_store.h"
#include "anchor/rollout.h"
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

namespace {

// A registry with group `g` holding n1..n3, committed to `store`.
void makeGroup(Registry& reg, MemoryStore& store) {
  Txn txn(reg);
  GroupRecord g;
  g.name = "g";
  for (const char* n : {"n1", "n2", "n3"}) {
    NodeRecord node;
    node.name = n;
    node.public_key = sealed::toBase64(sealed::generateKeyPair().public_key);  // sealed to it
    txn.putNode(node);
    txn.docs().touchNode(n);
    g.nodes.insert(n);
  }
  txn.putGroup(g);
  txn.docs().touch(docKey(DocKind::kGroup, "g"));
  REQUIRE(txn.commit(store).isOk());
}

AppRecord groupApp() {
  AppRecord app;
  app.name = "web";
  app.target.kind = Target::Kind::kGroup;
  app.target.name = "g";
  app.revision = 1;
  app.compose = "services:\n  web:\n    image: nginx:1.25\n";
  return app;
}

Json deployOnGroup(const std::string& name, const std::string& compose) {
  return Json{{"name", name}, {"target", {{"group", "g"}}}, {"compose", compose}};
}

}  // namespace

TEST_CASE("deploying an app without secrets to a group renders only the group document") {
  Registry reg;
  MemoryStore store;
  makeGroup(reg, store);
  Txn txn(reg);
  txn.putApp(groupApp());
  txn.docs().touchAppTarget(groupApp().target, "web");
  REQUIRE(txn.commit(store).isOk());
  CHECK(txn.docs().touchedDocs() == std::vector<std::string>{docKey(DocKind::kGroup, "g")});
  CHECK(txn.docs().changedDocs() == std::vector<std::string>{docKey(DocKind::kGroup, "g")});
}

TEST_CASE("an app with secrets, or losing them, still touches every member's secrets document") {
  Registry reg;
  MemoryStore store;
  makeGroup(reg, store);
  {
    Txn txn(reg);
    txn.putApp(groupApp());
    txn.setSecrets("web", {{"TOKEN", "t"}});
    txn.docs().touchAppTarget(groupApp().target, "web");
    REQUIRE(txn.commit(store).isOk());
    CHECK(txn.docs().touchedDocs().size() == 4);  // the group + 3 secrets documents
    CHECK(txn.docs().changedDocs().size() == 4);
  }
  {
    // The secrets go away (set to none after the touch): decided at commit, still touched.
    Txn txn(reg);
    txn.docs().touchAppTarget(groupApp().target, "web");
    txn.setSecrets("web", {});
    REQUIRE(txn.commit(store).isOk());
    CHECK(txn.docs().touchedDocs().size() == 4);
    CHECK(txn.docs().changedDocs().size() == 3);  // the secrets documents lost TOKEN
  }
}

TEST_CASE("a group deploy without secrets publishes no secrets document; with secrets it does") {
  AnchorFixture f;
  for (const char* n : {"n1", "n2"}) f.nodeOnline(n, 1000);
  f.ok("group.create", {{"name", "g"}});
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1", "n2"}}});
  f.broker().clearLog();
  f.ok("app.deploy", deployOnGroup("web", kCompose));
  CHECK(f.broker().published(topics::allNodes(NodeTopic::kSecrets)).empty());
  CHECK(f.broker().published(topics::groupDesired("g")).size() == 1);
  // Stopping and removing it touch no secrets either.
  f.ok("app.stop", {{"name", "web"}});
  f.ok("app.remove", {{"name", "web"}});
  CHECK(f.broker().published(topics::allNodes(NodeTopic::kSecrets)).empty());

  const char* compose =
      "services:\n  db:\n    image: postgres\n    environment:\n"
      "      PASSWORD: ${DB_PASSWORD:?}\n";
  Json body = deployOnGroup("db", compose);
  body["secrets"] = {{"DB_PASSWORD", "hunter2"}};
  f.ok("app.deploy", body);
  for (const char* n : {"n1", "n2"}) {
    CHECK((*f.secretsOf(n))["variables"]["DB_PASSWORD"] == "hunter2");
  }
  // Removing the app takes the secret out of every member's document.
  f.ok("app.remove", {{"name", "db"}});
  for (const char* n : {"n1", "n2"}) {
    CHECK((*f.secretsOf(n))["variables"].empty());
  }
}

TEST_CASE("the rollout debounce follows the cost of the last summaries, within its bounds") {
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  CHECK(rolloutDelay(microseconds(0), milliseconds(20), milliseconds(200)) == milliseconds(20));
  CHECK(rolloutDelay(microseconds(300), milliseconds(20), milliseconds(200)) == milliseconds(20));
  CHECK(rolloutDelay(microseconds(5'000), milliseconds(20), milliseconds(200)) == milliseconds(50));
  CHECK(rolloutDelay(microseconds(5'001), milliseconds(20), milliseconds(200)) == milliseconds(51));
  CHECK(rolloutDelay(microseconds(90'000), milliseconds(20), milliseconds(200)) ==
        milliseconds(200));
  // A max below the min: the min wins.
  CHECK(rolloutDelay(microseconds(90'000), milliseconds(20), milliseconds(5)) == milliseconds(20));
}

TEST_CASE("a small rollout's summary follows the last report within the maximum interval") {
  AnchorFixture f;
  for (const char* n : {"n1", "n2"}) f.nodeOnline(n, 1000);
  f.ok("group.create", {{"name", "g"}});
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1", "n2"}}});
  f.ok("app.deploy", deployOnGroup("web", kCompose));
  f.advance(std::chrono::milliseconds(300));
  f.reportState("n1", {{"web", 1}});
  f.reportState("n2", {{"web", 1}});
  // The delay grows with the measured cost of the last summary (rolloutDelay, checked
  // above), which a loaded machine inflates: by the 200 ms maximum it is out.
  f.advance(std::chrono::milliseconds(200));
  auto rollout = f.retainedJson(topics::appRollout("web"));
  REQUIRE(rollout);
  CHECK((*rollout)["running"] == 2);
  CHECK((*rollout).contains("ts"));
  // The same content again (a repeated report) is not republished.
  f.broker().clearLog();
  f.reportState("n1", {{"web", 1}});
  f.advance(std::chrono::milliseconds(50));
  CHECK(f.broker().published(topics::appRollout("web")).empty());
}

TEST_CASE("rolling back a transaction that changed no group or app keeps the indexes") {
  Registry reg;
  MemoryStore store;
  makeGroup(reg, store);
  CHECK(reg.relations().effectiveGroups("n1") == std::set<std::string>{"g"});
  REQUIRE(reg.indexesFresh());
  {
    // What the once-a-second sweep does when nothing is due.
    Txn txn(reg);
    txn.node("n1")->labels["k"] = "v";
    txn.rollback();
  }
  CHECK(reg.indexesFresh());
  CHECK(reg.findNode("n1")->labels.empty());
  {
    Txn txn(reg);
    txn.group("g")->nodes.erase("n1");
    CHECK(reg.relations().effectiveGroups("n1").empty());  // rebuilt from the changed group
    txn.rollback();
  }
  CHECK_FALSE(reg.indexesFresh());
  CHECK(reg.relations().effectiveGroups("n1") == std::set<std::string>{"g"});
}
