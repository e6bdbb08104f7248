// Groups: nested membership reaching node documents, cycle refusal naming the path, broker
// ACL updates, group documents carrying group apps (one publish per group deployment) and
// group.delete with and without force.
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;

namespace {
std::vector<std::string> strings(const Json& array) {
  std::vector<std::string> out;
  for (const auto& v : array) out.push_back(v.get<std::string>());
  return out;
}
}  // namespace

TEST_CASE("a node's desired document lists every group it belongs to, through ancestors") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("group.create", {{"name", "site"}});
  f.ok("group.create", {{"name", "hall"}, {"parent", "site"}});
  f.ok("group.create", {{"name", "line1"}, {"parent", "hall"}});
  f.ok("group.add", {{"group", "line1"}, {"nodes", {"n1"}}});
  auto doc = f.nodeDoc("n1");
  CHECK(strings((*doc)["groups"]) == std::vector<std::string>{"hall", "line1", "site"});
  // Broker ACLs follow.
  CHECK(f.admin().acl["n1"] == std::set<std::string>{"hall", "line1", "site"});
  auto got = f.ok("group.get", {{"name", "hall"}});
  CHECK(strings(got["parents"]) == std::vector<std::string>{"site"});
  CHECK(strings(got["groups"]) == std::vector<std::string>{"line1"});
  CHECK(got["nodes"].empty());
  CHECK(got["apps"].empty());
  // Detaching hall from site removes site from n1's document.
  int64_t gen = (*doc)["generation"];
  f.ok("group.remove", {{"group", "site"}, {"groups", {"hall"}}});
  doc = f.nodeDoc("n1");
  CHECK(strings((*doc)["groups"]) == std::vector<std::string>{"hall", "line1"});
  CHECK((*doc)["generation"] == gen + 1);
  CHECK(f.admin().acl["n1"] == std::set<std::string>{"hall", "line1"});
}

TEST_CASE("a group cycle is refused naming the path, and nothing changes") {
  AnchorFixture f;
  f.ok("group.create", {{"name", "a"}});
  f.ok("group.create", {{"name", "b"}, {"parent", "a"}});
  f.ok("group.create", {{"name", "c"}, {"parent", "b"}});
  Json r = f.request("group.add", {{"group", "c"}, {"groups", {"a"}}});
  REQUIRE(r["ok"] == false);
  CHECK(r["error"]["code"] == "conflict");
  CHECK(r["error"]["message"].get<std::string>().find("a > b > c > a") != std::string::npos);
  CHECK(r["error"]["path"] == "groups[0]");
  CHECK(f.errorCode("group.add", {{"group", "a"}, {"groups", {"a"}}}) == "conflict");
  CHECK(f.anchor().registry().findGroup("c")->groups.empty());
}

TEST_CASE("group operations refuse unknown names and existing groups") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("group.create", {{"name", "g"}});
  CHECK(f.errorCode("group.create", {{"name", "g"}}) == "already_exists");
  CHECK(f.errorCode("group.create", {{"name", "h"}, {"parent", "nope"}}) == "not_found");
  CHECK(f.errorCode("group.create", {{"name", "G!"}}) == "invalid_argument");
  CHECK(f.errorCode("group.get", {{"name", "nope"}}) == "not_found");
  CHECK(f.errorCode("group.add", {{"group", "nope"}, {"nodes", {"n1"}}}) == "not_found");
  Json r = f.request("group.add", {{"group", "g"}, {"nodes", {"n1", "ghost"}}});
  CHECK(r["error"]["code"] == "not_found");
  CHECK(r["error"]["path"] == "nodes[1]");
  CHECK(f.anchor().registry().findGroup("g")->nodes.empty());  // all or nothing
  CHECK(f.errorCode("group.add", {{"group", "g"}}) == "invalid_argument");
  CHECK(f.errorCode("group.delete", {{"name", "nope"}}) == "not_found");
  // Group and node names are separate namespaces.
  f.ok("group.create", {{"name", "n1"}});
}

TEST_CASE("a group deployment is exactly one publish to the group topic") {
  AnchorFixture f;
  for (int i = 0; i < 20; ++i) f.nodeOnline("n" + std::to_string(i), 1000);
  f.ok("group.create", {{"name", "line1"}});
  Json nodes = Json::array();
  for (int i = 0; i < 20; ++i) nodes.push_back("n" + std::to_string(i));
  f.ok("group.add", {{"group", "line1"}, {"nodes", nodes}});
  f.broker().clearLog();
  auto r = f.ok("app.deploy",
                {{"name", "web"}, {"target", {{"group", "line1"}}}, {"compose", kCompose}});
  CHECK(r["revision"] == 1);
  CHECK(f.broker().published(topics::groupDesired("line1")).size() == 1);
  CHECK(f.broker().published(topics::allNodes(topics::NodeTopic::kDesired)).empty());
  CHECK(f.broker().published(topics::allNodes(topics::NodeTopic::kSecrets)).empty());
  auto doc = f.groupDoc("line1");
  REQUIRE(doc);
  CHECK((*doc)["apps"][0]["name"] == "web");
  CHECK_FALSE(doc->contains("groups"));
}

TEST_CASE("adding or removing a node republishes only that node's document") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.nodeOnline("n2", 1000);
  f.ok("group.create", {{"name", "g"}});
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1"}}});
  f.broker().clearLog();
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n2"}}});
  auto desired = f.broker().published(topics::allNodes(topics::NodeTopic::kDesired));
  REQUIRE(desired.size() == 1);
  CHECK(desired[0].message.topic == topics::node("n2", topics::NodeTopic::kDesired));
  f.broker().clearLog();
  f.ok("group.remove", {{"group", "g"}, {"nodes", {"n2"}}});
  desired = f.broker().published(topics::allNodes(topics::NodeTopic::kDesired));
  REQUIRE(desired.size() == 1);
  CHECK(desired[0].message.topic == topics::node("n2", topics::NodeTopic::kDesired));
  CHECK(f.admin().acl["n2"].empty());
  // Adding an existing member changes nothing.
  f.broker().clearLog();
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1"}}});
  CHECK(f.broker().published(topics::allNodes(topics::NodeTopic::kDesired)).empty());
}

TEST_CASE("group.delete refuses a group with apps unless forced, then clears its document") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("group.create", {{"name", "parent"}});
  f.ok("group.create", {{"name", "g"}, {"parent", "parent"}});
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1"}}});
  f.ok("app.deploy", {{"name", "web"}, {"target", {{"group", "g"}}}, {"compose", kCompose}});
  CHECK(f.errorCode("group.delete", {{"name", "g"}}) == "conflict");
  CHECK(f.groupDoc("g"));
  auto r = f.ok("group.delete", {{"name", "g"}, {"force", true}});
  CHECK(strings(r["apps_dropped"]) == std::vector<std::string>{"web"});
  CHECK_FALSE(f.groupDoc("g"));
  CHECK_FALSE(f.anchor().registry().findApp("web"));
  CHECK((*f.nodeDoc("n1"))["groups"].empty());
  CHECK(f.anchor().registry().findGroup("parent")->groups.empty());
  CHECK(f.admin().acl["n1"].empty());
  // An empty group is deleted without force.
  f.ok("group.delete", {{"name", "parent"}});
}

TEST_CASE("group.list paginates") {
  AnchorFixture f;
  for (const char* g : {"a", "b", "c"}) f.ok("group.create", {{"name", g}});
  auto p1 = f.ok("group.list", {{"limit", 2}});
  CHECK(p1["groups"].size() == 2);
  auto p2 = f.ok("group.list", {{"limit", 2}, {"cursor", p1["next"]}});
  REQUIRE(p2["groups"].size() == 1);
  CHECK(p2["groups"][0]["name"] == "c");
}
