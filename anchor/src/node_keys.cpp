// Node public keys and sealed secrets documents (node_keys.h, docs/security.md "Sealed
// secrets"): trust on first sight of a key in a node's info, a changed key held as pending
// until node.rekey, and the key every nodes/{node}/secrets publish is sealed to
// (doc_publisher.cpp). Runs on the anchor's strand. Nothing here logs or records a secret
// value; key ids only.
#include "anchor/node_keys.h"

#include <algorithm>

#include "anchor/node_ops.h"
#include "pharos/api.h"
#include "pharos/log.h"
#include "pharos/sealed.h"
#include "pharos/topics.h"

namespace pharos::anchor {

using topics::NodeTopic;

std::string keyIdOfText(const std::string& base64_key) {
  auto raw = sealed::fromBase64(base64_key);
  return raw ? sealed::keyId(*raw) : std::string("invalid");
}

void checkNodeKey(Txn& txn, EventLog& events, int64_t now_ms, const std::string& node,
                  const std::string& announced) {
  NodeRecord* record = txn.node(node);
  if (!record || announced.empty() || announced == record->public_key ||
      announced == record->pending_key) {
    return;
  }
  EventRecord event;
  event.ts = now_ms;
  event.source = "anchor";
  event.node = node;
  if (record->public_key.empty()) {
    // Trust on first sight: the node's own identity announced it (only it, its line's
    // bridge and the anchor can publish its info).
    record->public_key = announced;
    record->pending_key.clear();
    txn.docs().touch(docKey(DocKind::kSecrets, node));
    event.kind = "node_key_trusted";
    event.message = "public key " + keyIdOfText(announced) + " trusted on first sight";
    spdlog::info("node {}: public key {} trusted on first sight", node, keyIdOfText(announced));
  } else {
    // Never from info alone: a stolen device password or a line bridge could announce one.
    record->pending_key = announced;
    event.kind = "node_key_changed";
    event.message = "announced public key " + keyIdOfText(announced) +
                    " (trusted: " + keyIdOfText(record->public_key) +
                    "); accept it with node.rekey";
    spdlog::warn(
        "node {}: announced a new public key {}; its secrets stay sealed to {} until "
        "`pharosctl node rekey {} --key-id {}`",
        node, keyIdOfText(announced), keyIdOfText(record->public_key), node,
        keyIdOfText(announced));
  }
  events.stage(event, txn.extra());
}

void addKeyIds(const NodeRecord& node, Json& out) {
  out["key_id"] = node.public_key.empty() ? std::string() : keyIdOfText(node.public_key);
  if (!node.pending_key.empty()) out["pending_key_id"] = keyIdOfText(node.pending_key);
}

Result<Json> NodeOps::rekey(const std::string& user, const Json& body) {
  auto req = decodeNodeRekey(body);
  if (!req) return req.status();
  const NodeRecord* node = ctx_.reg.findNode(req->name);
  if (!node) return Status::notFound("name: no node named '" + req->name + "'").withPath("name");
  std::string key = req->public_key;
  if (!req->key_id.empty()) {
    if (node->pending_key.empty()) {
      return Status::conflict("key_id: node '" + req->name + "' announced no new public key")
          .withPath("key_id");
    }
    if (keyIdOfText(node->pending_key) != req->key_id) {
      return Status::conflict("key_id: node '" + req->name + "' announced key " +
                              keyIdOfText(node->pending_key) + ", not " + req->key_id)
          .withPath("key_id");
    }
    key = node->pending_key;
  }
  Txn txn(ctx_.reg);
  NodeRecord* record = txn.node(req->name);
  std::string before = record->public_key;
  record->public_key = key;
  if (record->pending_key == key || !req->public_key.empty()) record->pending_key.clear();
  txn.docs().touch(docKey(DocKind::kSecrets, req->name));
  ctx_.audit(txn.extra(), user, "node.rekey", req->name, "",
             "public key " + keyIdOfText(key) +
                 (before.empty() ? std::string() : " replaces " + keyIdOfText(before)));
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn));
  spdlog::info("node {}: secrets now sealed to public key {} ({})", req->name, keyIdOfText(key),
               user);
  Json out{{"name", req->name}, {"key_id", keyIdOfText(key)}};
  if (!before.empty()) out["previous_key_id"] = keyIdOfText(before);
  return out;
}

}  // namespace pharos::anchor
