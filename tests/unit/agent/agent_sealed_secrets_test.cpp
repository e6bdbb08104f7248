// Sealed secrets on the agent (docs/security.md "Sealed secrets"): the public key goes out in
// info, documents are opened in memory with the device's key pair, the state file keeps the
// sealed form only, a document that cannot be opened never empties the held secrets, and
// registry credentials a newer document leaves out are no longer used.
#include <fstream>
#include <sstream>

#include "agent_rig.h"

namespace pharos::agent {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the shared rig
using std::chrono::milliseconds;

AppSpec appWithSecret() {
  AppSpec a = app("web");
  a.compose =
      "services:\n  main:\n    image: busybox\n    environment:\n      PW: ${DB_PASSWORD}\n";
  return a;
}

SecretsDoc secrets(int64_t generation, const std::string& password) {
  SecretsDoc s;
  s.epoch = "ep1";
  s.generation = generation;
  s.variables = {{"DB_PASSWORD", password}};
  s.registries = {{"registry.local:5000", "edge", "registry-pw-" + password}};
  return s;
}

std::string envOf(Rig& rig) {
  auto c = rig.docker.containers().inspectContainer("web_main_1");
  REQUIRE(c.isOk());
  return c->raw["Config"]["Env"].dump();
}

std::string fileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool refusedSecrets(Rig& rig) {
  for (const NodeEvent& e : rig.events()) {
    if (e.kind == "bad_document" && e.reason == "secrets document refused") return true;
  }
  return false;
}

}  // namespace

TEST_CASE("the agent publishes its public key in info") {
  Rig rig;
  rig.boot();
  auto m = rig.broker.retained(topics::node(kNode, topics::NodeTopic::kInfo));
  REQUIRE(m.has_value());
  auto info = decodeNodeInfo(m->payload);
  REQUIRE(info.isOk());
  CHECK(info->public_key == sealed::toBase64(rig.options.keys.public_key));
}

TEST_CASE("a sealed secret reaches the container and the state file keeps only ciphertext") {
  Rig rig;
  rig.boot();
  rig.publishSecrets(secrets(1, "hunter2"));
  rig.publishNode(nodeDoc(1, {appWithSecret()}));
  CHECK(envOf(rig).find("PW=hunter2") != std::string::npos);
  std::string state = fileText(rig.dir.path + "/state.json");
  CHECK(state.find("\\\"sealed\\\"") != std::string::npos);
  CHECK(state.find("hunter2") == std::string::npos);
  CHECK(state.find("registry-pw") == std::string::npos);
}

TEST_CASE("registry credentials removed from a newer secrets document are no longer used") {
  Rig rig;
  const std::string v1 = "registry.local:5000/web:1", v2 = "registry.local:5000/web:2";
  rig.docker.addRegistryImage(v1);
  rig.docker.addRegistryImage(v2);
  rig.boot();
  SecretsDoc with = secrets(1, "hunter2");
  rig.publishSecrets(with);
  rig.publishNode(nodeDoc(1, {app("web", v1, 1)}));
  auto auth = rig.docker.lastPullAuth(v1);
  REQUIRE(auth.has_value());
  CHECK(auth->username == "edge");
  CHECK(auth->password == "registry-pw-hunter2");
  // registry.remove: the anchor's next document has no credentials for that host.
  SecretsDoc without = secrets(2, "hunter2");
  without.registries.clear();
  rig.publishSecrets(without);
  rig.publishNode(nodeDoc(2, {app("web", v2, 2)}));
  CHECK(rig.docker.containers().inspectContainer("web_main_1")->raw["Config"]["Image"] == v2);
  CHECK_FALSE(rig.docker.lastPullAuth(v2).has_value());
}

TEST_CASE("a first start with both documents retained creates the container once, with secrets") {
  // After an enrolment the node's desired and secrets documents wait retained on the broker:
  // the container must never be created without its secret (then recreated once it opens).
  Rig rig;
  rig.broker.publish(MqttMessage{topics::node(kNode, topics::NodeTopic::kDesired),
                                 dumpJson(encode(nodeDoc(1, {appWithSecret()}))), 1, true, "", ""});
  auto sealed_doc = sealSecrets(
      [] {
        SecretsDoc s = secrets(1, "hunter2");
        s.node = kNode;
        return s;
      }(),
      rig.options.keys.public_key);
  REQUIRE(sealed_doc.isOk());
  rig.broker.publish(MqttMessage{topics::node(kNode, topics::NodeTopic::kSecrets),
                                 dumpJson(encode(*sealed_doc)), 1, true, "", ""});
  rig.boot();
  rig.advance(milliseconds(300));
  CHECK(envOf(rig).find("PW=hunter2") != std::string::npos);
  CHECK(rig.docker.calls(DockerOp::kCreateContainer) == 1);
}

TEST_CASE("sealed secrets from the state file are opened at boot without a broker") {
  Rig rig;
  rig.boot();
  rig.publishSecrets(secrets(1, "hunter2"));
  rig.publishNode(nodeDoc(1, {appWithSecret()}));
  rig.shutdown();
  REQUIRE(rig.docker.containers().removeContainer("web_main_1", true).isOk());
  rig.broker.setUp(false);  // no broker: only the state file can bring the secret back
  rig.boot();
  CHECK(envOf(rig).find("PW=hunter2") != std::string::npos);
}

TEST_CASE("a document sealed to another key is refused and the held secrets stay in force") {
  Rig rig;
  rig.boot();
  rig.publishSecrets(secrets(1, "hunter2"));
  rig.publishNode(nodeDoc(1, {appWithSecret()}));
  rig.publishSecrets(secrets(2, "changed"), sealed::generateKeyPair().public_key);
  CHECK(refusedSecrets(rig));
  CHECK(envOf(rig).find("PW=hunter2") != std::string::npos);
  auto applied = rig.state()["applied"];
  bool held_gen1 = false;
  for (const auto& ref : applied) {
    if (ref["source"] == "secrets") held_gen1 = ref["generation"] == 1;
  }
  CHECK(held_gen1);
}

TEST_CASE("a plaintext v1 secrets document is refused, never read as empty secrets") {
  Rig rig;
  rig.boot();
  rig.publishSecrets(secrets(1, "hunter2"));
  rig.publishNode(nodeDoc(1, {appWithSecret()}));
  Json v1 = {{"v", 1}, {"epoch", "ep1"}, {"generation", 5}, {"variables", Json::object()}};
  rig.publish(topics::node(kNode, topics::NodeTopic::kSecrets), dumpJson(v1));
  CHECK(refusedSecrets(rig));
  CHECK(envOf(rig).find("PW=hunter2") != std::string::npos);
}

TEST_CASE("a box whose content names another node or generation is refused") {
  Rig rig;
  rig.boot();
  SecretsDoc other = secrets(3, "stolen");
  other.node = "edge-2";
  auto sealed_doc = sealSecrets(other, rig.options.keys.public_key);
  REQUIRE(sealed_doc.isOk());
  rig.publish(topics::node(kNode, topics::NodeTopic::kSecrets), dumpJson(encode(*sealed_doc)));
  CHECK(refusedSecrets(rig));

  SecretsDoc replay = secrets(3, "old");
  replay.node = kNode;
  auto box = sealSecrets(replay, rig.options.keys.public_key);
  REQUIRE(box.isOk());
  box->generation = 9;  // an old box under a newer header
  rig.publish(topics::node(kNode, topics::NodeTopic::kSecrets), dumpJson(encode(*box)));
  auto applied = rig.state()["applied"];
  for (const auto& ref : applied) CHECK(ref["source"] != "secrets");
}

TEST_CASE("with a new device key the apps wait as they are until a document opens") {
  Rig rig;
  rig.boot();
  rig.publishSecrets(secrets(1, "hunter2"));
  rig.publishNode(nodeDoc(1, {appWithSecret()}));
  auto before = rig.docker.containers().inspectContainer("web_main_1");
  REQUIRE(before.isOk());
  rig.shutdown();
  rig.options.keys = sealed::generateKeyPair();  // pharos-agent --rekey
  rig.boot();
  CHECK(refusedSecrets(rig));
  auto during = rig.docker.containers().inspectContainer("web_main_1");
  REQUIRE(during.isOk());
  CHECK(during->id == before->id);  // not recreated without its secret
  CHECK(envOf(rig).find("PW=hunter2") != std::string::npos);
  // The anchor re-seals to the new key: the same secret, nothing to recreate.
  rig.publishSecrets(secrets(2, "hunter2"));
  rig.advance(milliseconds(1000));
  auto after = rig.docker.containers().inspectContainer("web_main_1");
  REQUIRE(after.isOk());
  CHECK(after->id == before->id);
  // And a changed secret goes through again.
  rig.publishSecrets(secrets(3, "rotated"));
  rig.advance(milliseconds(1000));
  CHECK(envOf(rig).find("PW=rotated") != std::string::npos);
}

TEST_CASE("an agent without a key pair refuses sealed documents") {
  Rig rig;
  sealed::KeyPair keys = rig.options.keys;
  rig.options.keys = {};
  rig.boot();
  rig.publishSecrets(secrets(1, "hunter2"), keys.public_key);
  CHECK(refusedSecrets(rig));
}

}  // namespace pharos::agent
