// DocRenderer (doc_renderer.h) over a registry built through transactions: what each node,
// group and secrets document holds, which documents exist, and what a document's content
// hash is taken of (without the epoch; a digest for a secrets document).
#include "anchor/doc_renderer.h"

#include <doctest/doctest.h>

#include <functional>

#include "anchor/memory_store.h"
#include "anchor/registry.h"

using namespace pharos;
using namespace pharos::anchor;

namespace {

using Names = std::vector<std::string>;

const char* kCompose = "services:\n  web:\n    image: nginx:1.25\n";

Target target(Target::Kind kind, const std::string& name) {
  Target t;
  t.kind = kind;
  t.name = name;
  return t;
}

AppRecord app(const std::string& name, const Target& t,
              DesiredState state = DesiredState::kRunning) {
  AppRecord a;
  a.name = name;
  a.target = t;
  a.revision = 1;
  a.compose = kCompose;
  a.state = state;
  return a;
}

AppSpec tomb(const std::string& name) {
  AppSpec spec;
  spec.name = name;
  spec.revision = 2;
  spec.compose = kCompose;
  return spec;
}

Names appNames(const DesiredDoc& doc) {
  Names out;
  for (const auto& a : doc.apps) out.push_back(a.name);
  return out;
}

// plant > cell (n1); n2 in no group, without a public key; `pend` pending.
// Apps: web on n1, cam on cell, old (removed) on plant; tombstones: gone and web on n1.
struct Rig {
  MemoryStore store;
  Registry reg;

  Rig() {
    REQUIRE(reg.load(store).isOk());
    change([](Txn& txn) {
      NodeRecord n1;
      n1.name = "n1";
      n1.labels["zone"] = "a";
      n1.public_key = "key-1";
      txn.putNode(n1);
      NodeRecord n2;
      n2.name = "n2";
      txn.putNode(n2);
      NodeRecord pend;
      pend.name = "pend";
      pend.registration = Registration::kPending;
      txn.putNode(pend);
      GroupRecord cell;
      cell.name = "cell";
      cell.nodes = {"n1"};
      txn.putGroup(cell);
      GroupRecord plant;
      plant.name = "plant";
      plant.groups = {"cell"};
      txn.putGroup(plant);
      txn.putApp(app("web", target(Target::Kind::kNode, "n1")));
      txn.putApp(app("cam", target(Target::Kind::kGroup, "cell")));
      txn.putApp(app("old", target(Target::Kind::kGroup, "plant"), DesiredState::kRemoved));
      txn.putTomb(docKey(DocKind::kNode, "n1"), tomb("gone"));
      txn.putTomb(docKey(DocKind::kNode, "n1"), tomb("web"));
      txn.putTomb(docKey(DocKind::kGroup, "cell"), tomb("gone"));
      txn.setSecrets("web", {{"TOKEN", "from-node"}});
      txn.setSecrets("cam", {{"TOKEN", "from-group"}, {"CAM", "1"}});
      txn.setSecrets("old", {{"OLD", "x"}});
      txn.putRegistry({target(Target::Kind::kNode, "n1"), "r.io", "node-user", "p1"});
      txn.putRegistry({target(Target::Kind::kGroup, "plant"), "r.io", "group-user", "p2"});
      txn.putRegistry({target(Target::Kind::kGroup, "plant"), "q.io", "group-user", "p3"});
    });
  }

  void change(const std::function<void(Txn&)>& edit) {
    Txn txn(reg);
    edit(txn);
    REQUIRE(txn.commit(store).isOk());
  }

  const DocRenderer& docs() const { return reg.renderer(); }

  // A node or group desired document, rendered and decoded.
  DesiredDoc desired(DocKind kind, const std::string& name, int64_t generation) const {
    auto json = docs().renderDoc(docKey(kind, name), generation);
    REQUIRE(json);
    auto doc = kind == DocKind::kGroup ? decodeGroupDesired(*json) : decodeDesired(*json);
    REQUIRE(doc);
    return *doc;
  }
};

}  // namespace

TEST_CASE("a node document holds the labels, effective groups and apps of the node") {
  Rig rig;
  DesiredDoc doc = rig.desired(DocKind::kNode, "n1", 7);
  CHECK(doc.epoch == rig.reg.epoch());
  CHECK(doc.generation == 7);
  CHECK(doc.labels == std::map<std::string, std::string>{{"zone", "a"}});
  CHECK(doc.groups == Names{"cell", "plant"});
  // Its own apps and tombstones, in name order; a live app wins over its tombstone. The
  // groups' apps are in the group documents.
  REQUIRE(appNames(doc) == Names{"gone", "web"});
  CHECK(doc.apps[0].state == DesiredState::kRemoved);
  CHECK(doc.apps[1].state == DesiredState::kRunning);
  CHECK(doc.apps[1].revision == 1);
}

TEST_CASE("a group document holds the apps that target the group and its tombstones") {
  Rig rig;
  DesiredDoc doc = rig.desired(DocKind::kGroup, "cell", 3);
  CHECK(doc.epoch == rig.reg.epoch());
  CHECK(doc.generation == 3);
  CHECK(doc.groups.empty());
  CHECK(appNames(doc) == Names{"cam", "gone"});
  CHECK(appNames(rig.desired(DocKind::kGroup, "plant", 1)) ==
        Names{"old"});  // a removed app stays until the sweep drops it
}

TEST_CASE("documents that must not exist render as nothing") {
  Rig rig;
  for (const char* key : {"node/pend", "secrets/pend", "node/unknown", "secrets/unknown",
                          "group/unknown", "bogus", ""}) {
    CAPTURE(key);
    CHECK_FALSE(rig.docs().renderDoc(key, 1));
  }
  CHECK_FALSE(rig.docs().renderSecrets("pend", 1));
  CHECK_FALSE(rig.docs().renderSecrets("unknown", 1));
}

TEST_CASE("a secrets document: node apps' secrets and credentials win over the groups'") {
  Rig rig;
  auto doc = rig.docs().renderSecrets("n1", 4);
  REQUIRE(doc);
  CHECK(doc->node == "n1");
  CHECK(doc->epoch == rig.reg.epoch());
  CHECK(doc->generation == 4);
  // A removed app's secrets are left out.
  CHECK(doc->variables == std::map<std::string, std::string>{{"CAM", "1"}, {"TOKEN", "from-node"}});
  REQUIRE(doc->registries.size() == 2);  // by host
  CHECK(doc->registries[0].host == "q.io");
  CHECK(doc->registries[0].username == "group-user");
  CHECK(doc->registries[1].host == "r.io");
  CHECK(doc->registries[1].username == "node-user");
  CHECK(doc->registries[1].password == "p1");
  // The secrets document key renders the same document.
  auto json = rig.docs().renderDoc(docKey(DocKind::kSecrets, "n1"), 4);
  REQUIRE(json);
  CHECK(*json == encode(*doc));
}

TEST_CASE("a node in no group with no app has an empty secrets document") {
  Rig rig;
  auto doc = rig.docs().renderSecrets("n2", 1);
  REQUIRE(doc);
  CHECK(doc->variables.empty());
  CHECK(doc->registries.empty());
}

TEST_CASE("every document that should exist: each registered node's two, each group's") {
  Rig rig;
  CHECK(rig.docs().allDocKeys() ==
        Names{docKey(DocKind::kNode, "n1"), docKey(DocKind::kSecrets, "n1"),
              docKey(DocKind::kNode, "n2"), docKey(DocKind::kSecrets, "n2"),
              docKey(DocKind::kGroup, "cell"), docKey(DocKind::kGroup, "plant")});
}

TEST_CASE("a document's content leaves out the epoch and leaves the document as it was") {
  Rig rig;
  const std::string key = docKey(DocKind::kNode, "n1");
  Json doc = *rig.docs().renderDoc(key, 0);
  const Json before = doc;
  std::string content = rig.docs().contentOf(key, doc);
  CHECK(doc == before);
  Json other_epoch = doc;
  other_epoch["epoch"] = "another";
  CHECK(rig.docs().contentOf(key, other_epoch) == content);
  Json other_labels = doc;
  other_labels["labels"]["zone"] = "b";
  CHECK(rig.docs().contentOf(key, other_labels) != content);
}

TEST_CASE("a secrets document's content is a digest bound to the node's key, or withheld") {
  Rig rig;
  const std::string key = docKey(DocKind::kSecrets, "n1");
  Json doc = *rig.docs().renderDoc(key, 0);
  std::string content = rig.docs().contentOf(key, doc);
  CHECK(content.find("from-node") == std::string::npos);  // no plaintext
  CHECK(content.size() > std::string("/key-1").size());
  CHECK(content.substr(content.size() - 6) == "/key-1");
  rig.change([](Txn& txn) { txn.node("n1")->public_key = "key-2"; });
  CHECK(rig.docs().contentOf(key, doc) != content);  // a new key is a new document
  Json no_key = *rig.docs().renderDoc(docKey(DocKind::kSecrets, "n2"), 0);
  CHECK(rig.docs().contentOf(docKey(DocKind::kSecrets, "n2"), no_key) == "withheld");
}
