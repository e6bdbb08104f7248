// Sealed secrets at the anchor (docs/security.md "Sealed secrets"): node keys trusted on first
// sight, a changed key held until node.rekey, secrets documents sealed to the trusted key or
// withheld, and secret/registry records encrypted at rest under the anchor's own key.
#include <doctest/doctest.h>

#include "anchor_fixture.h"

namespace pharos::anchor {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the shared fixture
using topics::NodeTopic;

const char* kSecretCompose =
    "services:\n  db:\n    image: postgres\n    environment:\n      PW: ${DB_PASSWORD:?}\n";

void deploySecret(AnchorFixture& f, const std::string& node, const std::string& value) {
  Json body{{"name", "db"}, {"target", {{"node", node}}}, {"compose", kSecretCompose}};
  body["secrets"] = {{"DB_PASSWORD", value}};
  f.ok("app.deploy", body);
}

SealedSecretsDoc envelopeOf(AnchorFixture& f, const std::string& node) {
  auto m = f.broker().retained(topics::node(node, NodeTopic::kSecrets));
  REQUIRE(m.has_value());
  auto doc = decodeSealedSecrets(m->payload);
  REQUIRE(doc.isOk());
  return *doc;
}

// Every value in the store, concatenated.
std::string storeBytes(AnchorFixture& f) {
  std::string all;
  REQUIRE(f.store()
              .scan("",
                    [&](std::string_view k, std::string_view v) {
                      all.append(k).append("=").append(v).append("\n");
                      return true;
                    })
              .isOk());
  return all;
}

std::string announce(AnchorFixture& f, const std::string& node, const sealed::KeyPair& keys) {
  NodeInfo info;
  info.agent_version = "0.1.0";
  info.hostname = node;
  info.public_key = sealed::toBase64(keys.public_key);
  f.publishAs(node, NodeTopic::kInfo, dumpJson(encode(info)));
  return sealed::keyId(keys.public_key);
}

}  // namespace

TEST_CASE("a node's secrets document is sealed to the key its info announced first") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  deploySecret(f, "n1", "hunter2");
  SealedSecretsDoc doc = envelopeOf(f, "n1");
  CHECK(doc.key_id == sealed::keyId(testNodeKeys("n1").public_key));
  auto raw = f.broker().retained(topics::node("n1", NodeTopic::kSecrets));
  CHECK(raw->payload.find("hunter2") == std::string::npos);
  CHECK((*f.secretsOf("n1"))["variables"]["DB_PASSWORD"] == "hunter2");
  // Another node's key cannot open it.
  sealed::KeyPair other = testNodeKeys("n2");
  auto opened = openSecrets(doc, "n1", other.public_key, other.secret_key);
  CHECK_FALSE(opened.isOk());
  CHECK(f.ok("node.get", {{"name", "n1"}})["key_id"] == doc.key_id);
}

TEST_CASE("a node without a known key gets a withheld document, then a sealed one") {
  AnchorFixture f;
  NodeInfo info;
  info.agent_version = "0.0.9";  // an agent that predates sealed secrets
  info.hostname = "old";
  f.publishAs("old", NodeTopic::kInfo, dumpJson(encode(info)));
  f.publishAs("old", NodeTopic::kStatus, statusPayload(Readiness::kReady, 1000));
  deploySecret(f, "old", "hunter2");
  SealedSecretsDoc doc = envelopeOf(f, "old");
  CHECK_FALSE(doc.withheld.empty());
  CHECK(doc.sealed.empty());
  for (const auto& m : f.broker().retainedMatching("pharos/v1/#")) {
    CHECK(m.payload.find("hunter2") == std::string::npos);
  }
  CHECK(f.ok("node.get", {{"name", "old"}})["key_id"] == "");
  // The upgraded agent announces a key: trusted on first sight, sealed to it at once.
  std::string id = announce(f, "old", testNodeKeys("old"));
  SealedSecretsDoc sealed_doc = envelopeOf(f, "old");
  CHECK(sealed_doc.key_id == id);
  CHECK(sealed_doc.generation > doc.generation);
  CHECK((*f.secretsOf("old"))["variables"]["DB_PASSWORD"] == "hunter2");
}

TEST_CASE("a changed key in info is held as pending until node.rekey accepts its id") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  deploySecret(f, "n1", "hunter2");
  SealedSecretsDoc before = envelopeOf(f, "n1");
  sealed::KeyPair fresh = sealed::generateKeyPair();
  std::string fresh_id = announce(f, "n1", fresh);
  // Still sealed to the trusted key: a forged info cannot redirect the secrets.
  CHECK(envelopeOf(f, "n1").key_id == before.key_id);
  CHECK(envelopeOf(f, "n1").generation == before.generation);
  Json got = f.ok("node.get", {{"name", "n1"}});
  CHECK(got["pending_key_id"] == fresh_id);
  bool changed_event = false;
  Json events = f.ok("events.query", {{"node", "n1"}})["events"];
  for (const auto& e : events) {
    changed_event = changed_event || e["kind"] == "node_key_changed";
  }
  CHECK(changed_event);

  CHECK(f.errorCode("node.rekey", {{"name", "n1"}, {"key_id", "0000000000000000"}}) == "conflict");
  Json rekeyed = f.ok("node.rekey", {{"name", "n1"}, {"key_id", fresh_id}});
  CHECK(rekeyed["key_id"] == fresh_id);
  CHECK(rekeyed["previous_key_id"] == before.key_id);
  SealedSecretsDoc after = envelopeOf(f, "n1");
  CHECK(after.key_id == fresh_id);
  CHECK(after.generation == before.generation + 1);
  auto opened = openSecrets(after, "n1", fresh.public_key, fresh.secret_key);
  REQUIRE(opened.isOk());
  CHECK(opened->variables.at("DB_PASSWORD") == "hunter2");
  sealed::KeyPair old = testNodeKeys("n1");
  CHECK_FALSE(openSecrets(after, "n1", old.public_key, old.secret_key).isOk());
  CHECK_FALSE(f.ok("node.get", {{"name", "n1"}}).contains("pending_key_id"));
  CHECK(f.errorCode("node.rekey", {{"name", "n1"}, {"key_id", fresh_id}}) == "conflict");
}

TEST_CASE("node.rekey with a public key given out of band re-seals at once") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  deploySecret(f, "n1", "hunter2");
  sealed::KeyPair fresh = sealed::generateKeyPair();
  f.ok("node.rekey", {{"name", "n1"}, {"public_key", sealed::toBase64(fresh.public_key)}});
  auto opened = openSecrets(envelopeOf(f, "n1"), "n1", fresh.public_key, fresh.secret_key);
  REQUIRE(opened.isOk());
  CHECK(opened->variables.at("DB_PASSWORD") == "hunter2");
  CHECK(f.errorCode("node.rekey", {{"name", "n1"}, {"public_key", "AAAA"}}) == "invalid_argument");
  CHECK(f.errorCode("node.rekey",
                    {{"name", "nope"}, {"public_key", sealed::toBase64(fresh.public_key)}}) ==
        "not_found");
}

TEST_CASE("secret and registry records are ciphertext in the store and survive a restart") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  deploySecret(f, "n1", "hunter2");
  f.ok("registry.set", {{"host", "registry.local:5000"},
                        {"username", "edge"},
                        {"password", "regpass99"},
                        {"target", {{"node", "n1"}}}});
  std::string bytes = storeBytes(f);
  CHECK(bytes.find("hunter2") == std::string::npos);
  CHECK(bytes.find("regpass99") == std::string::npos);
  CHECK(bytes.find("secret/db={\"sealed\":") != std::string::npos);
  int64_t generation = envelopeOf(f, "n1").generation;
  f.stopAnchor();
  f.startAnchor();
  CHECK(envelopeOf(f, "n1").generation == generation);  // nothing changed: not renumbered
  auto content = f.secretsOf("n1");
  CHECK((*content)["variables"]["DB_PASSWORD"] == "hunter2");
  CHECK((*content)["registries"][0]["password"] == "regpass99");
}

TEST_CASE("an anchor with another secrets key refuses to start on a sealed store") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  deploySecret(f, "n1", "hunter2");
  f.stopAnchor();
  Registry reg;
  reg.setSecretsKey(sealed::generateStoreKey());
  Status s = reg.load(f.store());
  CHECK(s.code() == Code::kInternal);
  CHECK(s.message().find("secret/db") != std::string::npos);
  CHECK(s.message().find("hunter2") == std::string::npos);
}

TEST_CASE("secret records stored in the clear are rewritten sealed at load") {
  AnchorFixture f;
  f.stopAnchor();
  REQUIRE(f.store().put(keys::secret("db"), R"({"DB_PASSWORD":"legacy-pw"})").isOk());
  f.startAnchor();
  CHECK(storeBytes(f).find("legacy-pw") == std::string::npos);
  const auto* secrets = f.anchor().registry().findSecrets("db");
  REQUIRE(secrets);
  CHECK(secrets->at("DB_PASSWORD") == "legacy-pw");
}

}  // namespace pharos::anchor
