// DocPublisher (doc_publisher.h) with no broker: a committed transaction's documents go out
// retained at QoS 1 with their new generation, in touch order; a document the transaction
// removed is cleared; a secrets document without a known public key is withheld, never sent
// in the clear.
#include "anchor/doc_publisher.h"

#include <doctest/doctest.h>

#include <vector>

#include "anchor/memory_store.h"
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

namespace {

struct Published {
  MemoryStore store;
  Registry reg;
  std::vector<MqttMessage> sent;
  DocPublisher publisher{reg, store, [this](const MqttMessage& m) {
                           sent.push_back(m);
                           return Status::ok();
                         }};

  Published() {
    reg.setSecretsKey(kTestSecretsKey);
    REQUIRE(reg.load(store).isOk());
  }

  void addNode(const std::string& name) {
    Txn txn(reg);
    NodeRecord node;
    node.name = name;
    txn.putNode(std::move(node));
    txn.docs().touchNode(name);
    REQUIRE(publisher.commit(txn).isOk());
  }
};

}  // namespace

TEST_CASE("a committed node publishes its secrets, then its desired document, once, retained") {
  // Secrets first: an agent opens them before it sees the revision that uses them.
  Published p;
  p.addNode("n1");
  REQUIRE(p.sent.size() == 2);
  CHECK(p.sent[0].topic == topics::node("n1", NodeTopic::kSecrets));
  CHECK(p.sent[1].topic == topics::node("n1", NodeTopic::kDesired));
  for (const auto& m : p.sent) {
    CHECK(m.retained);
    CHECK(m.qos == 1);
  }
  auto desired = *parseJson(p.sent[1].payload, 1 << 20);
  CHECK(desired["generation"] == 1);
  CHECK(desired["epoch"] == p.reg.epoch());
  auto secrets = *parseJson(p.sent[0].payload, 1 << 20);
  CHECK(secrets.contains("withheld"));  // no public key known: nothing sealed, nothing clear
}

TEST_CASE("an unchanged document is not published again") {
  Published p;
  p.addNode("n1");
  p.sent.clear();
  Txn txn(p.reg);
  txn.docs().touchNode("n1");
  REQUIRE(p.publisher.commit(txn).isOk());
  CHECK(p.sent.empty());
}

TEST_CASE("a removed node's documents are cleared with empty retained payloads") {
  Published p;
  p.addNode("n1");
  p.sent.clear();
  Txn txn(p.reg);
  txn.eraseNode("n1");
  txn.docs().touchNode("n1");
  REQUIRE(p.publisher.commit(txn).isOk());
  REQUIRE(p.sent.size() == 2);
  for (const auto& m : p.sent) {
    CHECK(m.payload.empty());
    CHECK(m.retained);
  }
}

TEST_CASE("a failed send is not an error of the commit (republished on reconnect)") {
  MemoryStore store;
  Registry reg;
  reg.setSecretsKey(kTestSecretsKey);
  REQUIRE(reg.load(store).isOk());
  int attempts = 0;
  DocPublisher publisher(reg, store, [&](const MqttMessage&) {
    ++attempts;
    return Status::unavailable("not connected");
  });
  Txn txn(reg);
  NodeRecord node;
  node.name = "n1";
  txn.putNode(std::move(node));
  txn.docs().touchNode("n1");
  CHECK(publisher.commit(txn).isOk());
  CHECK(attempts == 2);
  CHECK(reg.findNode("n1") != nullptr);
}

TEST_CASE("a changed document goes out as its commit rendered it, at its new generation") {
  // The commit renders each touched document once: the payload it keeps for a changed one
  // is the document at its new generation, byte for byte what rendering it again gives.
  Published p;
  p.addNode("n1");
  p.sent.clear();
  Txn txn(p.reg);
  txn.node("n1")->labels["line"] = "a";
  txn.docs().touchNode("n1");
  REQUIRE(p.publisher.commit(txn).isOk());
  REQUIRE(p.sent.size() == 1);  // the secrets document did not change
  CHECK(p.sent[0].topic == topics::node("n1", NodeTopic::kDesired));
  const std::string key = docKey(DocKind::kNode, "n1");
  REQUIRE(p.reg.docStates().at(key).generation == 2);
  CHECK(p.sent[0].payload == dumpJson(*p.reg.renderer().renderDoc(key, 2)));
  CHECK_FALSE(txn.docs().takePayload(key).has_value());  // moved out by the publisher

  Txn secrets(p.reg);  // a secrets document's plaintext is never kept
  secrets.node("n1")->public_key = "AAAA";
  secrets.docs().touchNode("n1");
  REQUIRE(secrets.commit(p.store, true, true).isOk());
  CHECK_FALSE(secrets.docs().takePayload(docKey(DocKind::kSecrets, "n1")).has_value());
}
