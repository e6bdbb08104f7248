// Node public keys and sealed secrets documents (docs/security.md "Sealed secrets"): trust on
// first sight of a key in a node's info, a changed key held as pending until node.rekey,
// and the key every nodes/{node}/secrets publish is sealed to (doc_publisher.cpp). Runs on
// the anchor's strand. Nothing here logs or records a secret value; key ids only.
#include <algorithm>

#include "anchor/anchor.h"
#include "pharos/api.h"
#include "pharos/log.h"
#include "pharos/sealed.h"
#include "pharos/topics.h"

namespace pharos::anchor {

using topics::NodeTopic;

namespace {

std::string idOfText(const std::string& base64_key) {
  auto raw = sealed::fromBase64(base64_key);
  return raw ? sealed::keyId(*raw) : std::string("invalid");
}

}  // namespace

void Anchor::checkNodeKey(const std::string& node, const std::string& announced, Txn& txn) {
  NodeRecord* record = txn.node(node);
  if (!record || announced.empty() || announced == record->public_key ||
      announced == record->pending_key) {
    return;
  }
  EventRecord event;
  event.ts = clock_.nowMs();
  event.source = "anchor";
  event.node = node;
  if (record->public_key.empty()) {
    // Trust on first sight: the node's own identity announced it (only it, its line's
    // bridge and the anchor can publish its info).
    record->public_key = announced;
    record->pending_key.clear();
    txn.touch(docKey(DocKind::kSecrets, node));
    event.kind = "node_key_trusted";
    event.message = "public key " + idOfText(announced) + " trusted on first sight";
    spdlog::info("node {}: public key {} trusted on first sight", node, idOfText(announced));
  } else {
    // Never from info alone: a stolen device password or a line bridge could announce one.
    record->pending_key = announced;
    event.kind = "node_key_changed";
    event.message = "announced public key " + idOfText(announced) +
                    " (trusted: " + idOfText(record->public_key) + "); accept it with node.rekey";
    spdlog::warn(
        "node {}: announced a new public key {}; its secrets stay sealed to {} until "
        "`pharosctl node rekey {} --key-id {}`",
        node, idOfText(announced), idOfText(record->public_key), node, idOfText(announced));
  }
  events_.stage(event, txn.extra());
}

void Anchor::addKeyIds(const NodeRecord& node, Json& out) {
  out["key_id"] = node.public_key.empty() ? std::string() : idOfText(node.public_key);
  if (!node.pending_key.empty()) out["pending_key_id"] = idOfText(node.pending_key);
}

Result<Json> Anchor::nodeRekey(const std::string& user, const Json& body) {
  auto req = decodeNodeRekey(body);
  if (!req) return req.status();
  const NodeRecord* node = reg_.findNode(req->name);
  if (!node) return Status::notFound("name: no node named '" + req->name + "'").withPath("name");
  std::string key = req->public_key;
  if (!req->key_id.empty()) {
    if (node->pending_key.empty()) {
      return Status::conflict("key_id: node '" + req->name + "' announced no new public key")
          .withPath("key_id");
    }
    if (idOfText(node->pending_key) != req->key_id) {
      return Status::conflict("key_id: node '" + req->name + "' announced key " +
                              idOfText(node->pending_key) + ", not " + req->key_id)
          .withPath("key_id");
    }
    key = node->pending_key;
  }
  Txn txn(reg_);
  NodeRecord* record = txn.node(req->name);
  std::string before = record->public_key;
  record->public_key = key;
  if (record->pending_key == key || !req->public_key.empty()) record->pending_key.clear();
  txn.touch(docKey(DocKind::kSecrets, req->name));
  ops_.audit(txn.extra(), user, "node.rekey", req->name, "",
             "public key " + idOfText(key) +
                 (before.empty() ? std::string() : " replaces " + idOfText(before)));
  PHAROS_RETURN_IF_ERROR(publisher_.commit(txn));
  spdlog::info("node {}: secrets now sealed to public key {} ({})", req->name, idOfText(key), user);
  Json out{{"name", req->name}, {"key_id", idOfText(key)}};
  if (!before.empty()) out["previous_key_id"] = idOfText(before);
  return out;
}

}  // namespace pharos::anchor
