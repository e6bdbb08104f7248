// The documents of one Txn (see txn_docs.h): marked by its mutators, rendered, compared and
// numbered at commit. Runs on the anchor's strand.
#include "anchor/txn_docs.h"

#include "anchor/registry.h"

namespace pharos::anchor {

void TxnDocs::touch(const std::string& doc_key) {
  if (touched_set_.insert(doc_key).second) touched_.push_back(doc_key);
}

void TxnDocs::touchNode(const std::string& node) {
  touch(docKey(DocKind::kNode, node));
  touch(docKey(DocKind::kSecrets, node));
}

void TxnDocs::touchTarget(const Target& target) {
  touch(targetDocKey(target));
  if (target.kind == Target::Kind::kNode) {
    touch(docKey(DocKind::kSecrets, target.name));
  } else {
    for (const auto& n : reg_.relations().effectiveMembers(target.name)) {
      touch(docKey(DocKind::kSecrets, n));
    }
  }
}

void TxnDocs::touchAppTarget(const Target& target, const std::string& app) {
  touch(targetDocKey(target));
  app_targets_.emplace_back(target, app);
}

void TxnDocs::touchMembers(const std::string& group) {
  for (const auto& n : reg_.relations().effectiveMembers(group)) touchNode(n);
}

void TxnDocs::render(WriteBatch& batch, bool keep_payloads,
                     const std::function<bool(const std::string&)>& had_secrets) {
  changed_.clear();
  removed_.clear();
  payloads_.clear();
  for (const auto& [target, app] : app_targets_) {
    if (had_secrets(app) || reg_.secrets_.count(app)) touchTarget(target);
  }
  app_targets_.clear();
  // Render, compare, number; each rendered once (its payload is kept for the publisher at
  // its new generation).
  for (const auto& key : touched_) {
    std::optional<Json> doc = reg_.renderer().renderDoc(key, 0);
    auto it = reg_.docs_.find(key);
    if (!doc) {
      if (it == reg_.docs_.end()) continue;
      orig_docs_.emplace(key, it->second);
      reg_.docs_.erase(it);
      batch.del(keys::gen(key));
      removed_.push_back(key);
      continue;
    }
    std::string hash = contentHash(reg_.renderer().contentOf(key, *doc));
    if (it != reg_.docs_.end() && it->second.hash == hash) continue;
    if (it == reg_.docs_.end()) {
      orig_docs_.emplace(key, std::nullopt);
      it = reg_.docs_.emplace(key, DocState{}).first;
    } else {
      orig_docs_.emplace(key, it->second);
    }
    it->second.generation += 1;
    it->second.hash = hash;
    batch.put(keys::gen(key), dumpJson(toJson(it->second)));
    changed_.push_back(key);
    DocKind kind;
    std::string name;
    if (keep_payloads && parseDocKey(key, kind, name) && kind != DocKind::kSecrets) {
      (*doc)["generation"] = it->second.generation;
      payloads_.emplace(key, dumpJson(*doc));
    }
  }
}

void TxnDocs::restore() {
  for (const auto& [key, value] : orig_docs_) {
    if (value) {
      reg_.docs_[key] = *value;
    } else {
      reg_.docs_.erase(key);
    }
  }
  changed_.clear();
  removed_.clear();
  payloads_.clear();
}

std::optional<std::string> TxnDocs::takePayload(const std::string& doc_key) {
  auto it = payloads_.find(doc_key);
  if (it == payloads_.end()) return std::nullopt;
  std::string payload = std::move(it->second);
  payloads_.erase(it);
  return payload;
}

}  // namespace pharos::anchor
