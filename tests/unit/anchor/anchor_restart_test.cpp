// Restart and reconnect: the anchor killed at any moment restarts from the same store and
// republishes exactly the same documents (same epoch, same generations); a broker that lost
// its retained store is healed on reconnect; a new store gets a new epoch.
#include "anchor/memory_store.h"
#include "anchor/registry.h"
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

namespace {

// Every document by topic; a secrets document as its opened content (each publish seals
// anew, so the same document is different ciphertext every time).
std::map<std::string, std::string> documents(FakeBroker& broker) {
  std::map<std::string, std::string> out;
  for (const char* filter :
       {"pharos/v1/nodes/+/desired", "pharos/v1/nodes/+/secrets", "pharos/v1/groups/+/desired"}) {
    for (const auto& m : broker.retainedMatching(filter)) out[m.topic] = m.payload;
  }
  for (const auto& m : broker.retainedMatching("pharos/v1/nodes/+/secrets")) {
    auto parsed = topics::parse(m.topic);
    REQUIRE(parsed.isOk());
    auto envelope = decodeSealedSecrets(m.payload);
    REQUIRE(envelope.isOk());
    sealed::KeyPair keys = testNodeKeys(parsed->node);
    auto content = openSecrets(*envelope, parsed->node, keys.public_key, keys.secret_key);
    REQUIRE(content.isOk());
    out[m.topic] = dumpJson(encode(*content));
  }
  return out;
}

void buildFleet(AnchorFixture& f) {
  f.nodeOnline("n1", 1000);
  f.nodeOnline("n2", 1000);
  f.ok("group.create", {{"name", "site"}});
  f.ok("group.create", {{"name", "line"}, {"parent", "site"}});
  f.ok("group.add", {{"group", "line"}, {"nodes", {"n1", "n2"}}});
  f.ok("node.label", {{"name", "n1"}, {"set", {{"zone", "a"}}}});
  f.ok("app.deploy", {{"name", "web"},
                      {"target", {{"group", "line"}}},
                      {"compose", kCompose},
                      {"secrets", {{"TOKEN", "t"}}}});
  f.ok("app.deploy", {{"name", "db"}, {"target", {{"node", "n2"}}}, {"compose", kCompose}});
  f.ok("app.deploy", {{"name", "db"}, {"target", {{"node", "n2"}}}, {"compose", kCompose2}});
}

}  // namespace

TEST_CASE("a restart from the same store republishes the same documents") {
  AnchorFixture f;
  buildFleet(f);
  auto before = documents(f.broker());
  REQUIRE(before.size() == 6);
  std::string epoch = f.anchor().registry().epoch();
  f.killAnchor();
  // The broker lost its retained store too.
  f.broker().restart(true);
  f.pump();
  CHECK(documents(f.broker()).empty());
  f.startAnchor();
  CHECK(f.anchor().registry().epoch() == epoch);
  CHECK(documents(f.broker()) == before);
  CHECK(f.anchor().registry().findApp("db")->revision == 2);
  CHECK(f.ok("app.history", {{"name", "db"}})["revisions"].size() == 2);
  // And the next change continues the generation sequence.
  int64_t gen = (*f.nodeDoc("n1"))["generation"];
  f.ok("node.label", {{"name", "n1"}, {"set", {{"zone", "b"}}}});
  CHECK((*f.nodeDoc("n1"))["generation"] == gen + 1);
}

TEST_CASE("every reconnect republishes every desired document") {
  AnchorFixture f;
  buildFleet(f);
  auto before = documents(f.broker());
  f.broker().restart(true);  // broker restarted without persistence
  f.pump();
  CHECK(documents(f.broker()) == before);
  CHECK((*f.retainedJson(topics::anchorStatus()))["state"] == "online");
  CHECK((*f.retainedJson(topics::node("n1", NodeTopic::kHealth))).is_object());
}

TEST_CASE("a large republish is done in chunks and completes") {
  AnchorOptions config;
  config.republish_chunk = 7;
  AnchorFixture f(config);
  for (int i = 0; i < 40; ++i) f.nodeOnline("n" + std::to_string(i), 1000);
  auto before = documents(f.broker());
  REQUIRE(before.size() == 80);
  f.broker().restart(true);
  f.pump();
  CHECK(documents(f.broker()) == before);
}

TEST_CASE("a new store gets a new random epoch and the registry loads what was stored") {
  MemoryStore a;
  MemoryStore b;
  Registry ra;
  Registry rb;
  REQUIRE(ra.load(a).isOk());
  REQUIRE(rb.load(b).isOk());
  CHECK(ra.epoch().size() == 16);
  CHECK(ra.epoch() != rb.epoch());
  Registry again;
  REQUIRE(again.load(a).isOk());
  CHECK(again.epoch() == ra.epoch());
}

TEST_CASE("a corrupt store record stops the load with the key named") {
  MemoryStore store;
  REQUIRE(store.put("node/n1", "{not json").isOk());
  Registry reg;
  Status s = reg.load(store);
  CHECK(s.code() == Code::kInternal);
  CHECK(s.message().find("node/n1") != std::string::npos);
}
