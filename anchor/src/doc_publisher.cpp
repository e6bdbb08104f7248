// Retained documents and health verdicts (doc_publisher.h). Runs on the anchor's strand.
#include "anchor/doc_publisher.h"

#include <algorithm>

#include "pharos/log.h"
#include "pharos/messages.h"
#include "pharos/sealed.h"
#include "pharos/topics.h"

namespace pharos::anchor {

using topics::NodeTopic;

namespace {

std::string docTopic(const std::string& doc_key) {
  DocKind kind;
  std::string name;
  if (!parseDocKey(doc_key, kind, name)) return {};
  switch (kind) {
    case DocKind::kNode:
      return topics::node(name, NodeTopic::kDesired);
    case DocKind::kSecrets:
      return topics::node(name, NodeTopic::kSecrets);
    case DocKind::kGroup:
      return topics::groupDesired(name);
  }
  return {};
}

}  // namespace

DocPublisher::DocPublisher(Registry& reg, Store& store, Send send)
    : reg_(reg), store_(store), send_(std::move(send)) {}

void DocPublisher::retained(const std::string& topic, const std::string& payload) {
  MqttMessage msg;
  msg.topic = topic;
  msg.payload = payload;
  msg.retained = true;
  msg.qos = 1;
  Status s = send_(msg);
  if (!s.isOk()) spdlog::debug("publish {}: {}", topic, s.message());
}

void DocPublisher::doc(const std::string& doc_key) {
  auto state = reg_.docStates().find(doc_key);
  if (state == reg_.docStates().end()) return;
  DocKind kind;
  std::string name;
  if (parseDocKey(doc_key, kind, name) && kind == DocKind::kSecrets) {
    sealedSecrets(name, state->second.generation);
    return;
  }
  auto doc = reg_.renderer().renderDoc(doc_key, state->second.generation);
  if (!doc) return;
  retained(docTopic(doc_key), dumpJson(*doc));
}

void DocPublisher::emptyDoc(const std::string& doc_key) { retained(docTopic(doc_key), ""); }

void DocPublisher::health(const std::string& node) {
  auto it = reg_.health().find(node);
  if (it == reg_.health().end()) return;
  retained(topics::node(node, NodeTopic::kHealth), dumpJson(encode(it->second.health)));
}

Status DocPublisher::commit(Txn& txn, bool sync, const std::function<void()>& before_publish) {
  PHAROS_RETURN_IF_ERROR(txn.commit(store_, sync, true));
  if (before_publish) before_publish();
  // Secrets documents before the desired documents that use them: the broker keeps one
  // publisher's order, so an agent opens a new secret before it sees the revision whose
  // compose file refers to it.
  auto isSecrets = [](const std::string& key) {
    DocKind kind;
    std::string name;
    return parseDocKey(key, kind, name) && kind == DocKind::kSecrets;
  };
  for (const auto& key : txn.docs().changedDocs()) {
    if (isSecrets(key)) doc(key);
  }
  for (const auto& key : txn.docs().changedDocs()) {
    if (isSecrets(key)) continue;
    // Rendered once, by the commit, at its new generation.
    if (auto payload = txn.docs().takePayload(key)) {
      retained(docTopic(key), *payload);
    } else {
      doc(key);
    }
  }
  for (const auto& key : txn.docs().removedDocs()) emptyDoc(key);
  return Status::ok();
}

void DocPublisher::sealedSecrets(const std::string& node, int64_t generation) {
  auto doc = reg_.renderer().renderSecrets(node, generation);
  if (!doc) return;
  const NodeRecord* record = reg_.findNode(node);
  SealedSecretsDoc out;
  if (record->public_key.empty()) {
    out.epoch = doc->epoch;
    out.generation = generation;
    out.withheld = "the anchor knows no public key of this node (an agent without sealed secrets?)";
    if (!doc->variables.empty() || !doc->registries.empty()) {
      spdlog::warn(
          "node {}: secrets withheld: no public key known (upgrade its agent, or "
          "`pharosctl node rekey {} --public-key KEY`)",
          node, node);
    }
  } else {
    auto raw = sealed::fromBase64(record->public_key);
    auto sealed_doc = raw ? sealSecrets(*doc, *raw) : Result<SealedSecretsDoc>(raw.status());
    if (!sealed_doc) {
      spdlog::error("node {}: cannot seal its secrets document: {}", node,
                    sealed_doc.status().message());
      return;
    }
    out = std::move(*sealed_doc);
  }
  for (auto& [name, value] : doc->variables) std::fill(value.begin(), value.end(), '\0');
  for (auto& reg : doc->registries) std::fill(reg.password.begin(), reg.password.end(), '\0');
  retained(topics::node(node, NodeTopic::kSecrets), dumpJson(encode(out)));
}

}  // namespace pharos::anchor
