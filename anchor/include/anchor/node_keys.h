// Node public keys (docs/security.md "Sealed secrets"): trust on first sight of a key in a
// node's info, a changed key held as pending until node.rekey (NodeOps::rekey), and the key
// ids shown in node summaries. Nothing here logs or records a secret value; key ids only.
//
// Threading: runs on the anchor's strand.
#pragma once

#include <cstdint>
#include <string>

#include "anchor/event_log.h"
#include "anchor/registry.h"
#include "pharos/json.h"

namespace pharos::anchor {

// The key id of a base64 public key ("invalid" when it is not one).
std::string keyIdOfText(const std::string& base64_key);
// A public key announced in the node's info: trusted on first sight, held as pending when
// it differs from the trusted one; the event is staged in `txn`.
void checkNodeKey(Txn& txn, EventLog& events, int64_t now_ms, const std::string& node,
                  const std::string& announced);
// Adds key_id ("" = none: secrets withheld) and pending_key_id (when one waits) to a summary.
void addKeyIds(const NodeRecord& node, Json& out);

}  // namespace pharos::anchor
