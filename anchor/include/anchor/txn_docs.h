// The documents one Txn (registry.h) changes: the ones its mutators mark, rendered once at
// commit, compared by content hash with the generation held, and numbered anew when their
// content changed (or dropped when they no longer exist). Records the original DocState of
// each document it numbers or drops, so that a failed write restores it.
//
// Threading: owned by its Txn, on the anchor's strand.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "anchor/model.h"
#include "anchor/store.h"

namespace pharos::anchor {

class Registry;

class TxnDocs {
 public:
  explicit TxnDocs(Registry& registry) : reg_(registry) {}
  TxnDocs(const TxnDocs&) = delete;
  TxnDocs& operator=(const TxnDocs&) = delete;

  // Marks documents to re-render at commit.
  void touch(const std::string& doc_key);
  // A node's desired and secrets documents.
  void touchNode(const std::string& node);
  // The target's document and the secrets of every node it reaches.
  void touchTarget(const Target& target);
  // The target's document of `app`; the secrets of the nodes it reaches only when `app`
  // has secrets before or after this change (decided at commit): an app without secrets
  // cannot change a secrets document, and a group of 10,000 would render 10,000 of them.
  void touchAppTarget(const Target& target, const std::string& app);
  // Every node document below `group` (their groups list or secrets change).
  void touchMembers(const std::string& group);

  // At commit: renders the touched documents and writes the generation of each changed one
  // into `batch`. `had_secrets(app)` says whether an app had secrets before the change. With
  // `keep_payloads` the changed desired documents' payloads, rendered at their new
  // generation, are kept for the publisher.
  void render(WriteBatch& batch, bool keep_payloads,
              const std::function<bool(const std::string&)>& had_secrets);
  // Restores the generations render() changed and forgets what it found.
  void restore();

  // After commit: documents whose generation grew (publish them, in this order) and
  // documents that no longer exist (publish an empty retained payload).
  const std::vector<std::string>& changedDocs() const { return changed_; }
  const std::vector<std::string>& removedDocs() const { return removed_; }
  // After commit(..., keep_payloads): the payload of a changed node or group desired
  // document, moved out (a secrets document's plaintext is not kept: nullopt).
  std::optional<std::string> takePayload(const std::string& doc_key);
  // Documents rendered at commit (tests check what a change costs).
  const std::vector<std::string>& touchedDocs() const { return touched_; }

 private:
  Registry& reg_;
  std::map<std::string, std::optional<DocState>> orig_docs_;
  std::vector<std::string> touched_;
  std::set<std::string> touched_set_;
  std::vector<std::pair<Target, std::string>> app_targets_;  // touchAppTarget, expanded at commit
  std::map<std::string, std::string> payloads_;  // changed desired documents (keep_payloads)
  std::vector<std::string> changed_;
  std::vector<std::string> removed_;
};

}  // namespace pharos::anchor
