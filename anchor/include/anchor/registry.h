// The anchor's in-memory model of the fleet: nodes, groups (nested), apps, secrets, registry
// credentials, tombstones and the generation of every published document; it owns the
// queries over them (Relations, with their RelationIndex) and the rendering of the documents
// (DocRenderer). Loaded from the Store at start (one prefix scan per kind), changed
// only through a Txn, which renders the documents a change touches, numbers the ones whose
// content changed and writes records and generations in ONE atomic batch; a failed write
// rolls the memory back, so nothing is ever half-applied.
//
// Threading: owned by the anchor's strand; not thread-safe.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "anchor/doc_renderer.h"
#include "anchor/model.h"
#include "anchor/relation_index.h"
#include "anchor/relations.h"
#include "anchor/secrets_at_rest.h"
#include "anchor/store.h"
#include "anchor/txn_docs.h"
#include "pharos/clock.h"
#include "pharos/sealed.h"

namespace pharos::anchor {

class Txn;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The key that seals secret and registry records at rest (SecretsAtRest). Set it before
  // load(); until then a random key of this process is used (tests that never reload).
  void setSecretsKey(std::string key) { at_rest_ = SecretsAtRest(std::move(key)); }
  const SecretsAtRest& atRest() const { return at_rest_; }

  // Loads every record. A new store gets a random epoch (written at once). Secret and
  // registry records stored in the clear (before sealing at rest) are rewritten sealed.
  Status load(Store& store);
  const std::string& epoch() const { return epoch_; }

  // ---- records (read-only; change them through a Txn) ----
  const std::map<std::string, NodeRecord>& nodes() const { return nodes_; }
  const std::map<std::string, GroupRecord>& groups() const { return groups_; }
  const std::map<std::string, AppRecord>& apps() const { return apps_; }
  const NodeRecord* findNode(const std::string& name) const;
  const GroupRecord* findGroup(const std::string& name) const;
  const AppRecord* findApp(const std::string& name) const;
  const std::map<std::string, std::string>* findSecrets(const std::string& app) const;
  // Registry credentials by target document key, then host.
  const std::map<std::string, std::map<std::string, RegistryRecord>>& registries() const {
    return registries_;
  }
  // Tombstones by document key ("node/<n>", "group/<g>"), then app name.
  const std::map<std::string, std::map<std::string, AppSpec>>& tombs() const { return tombs_; }
  const std::map<std::string, DocState>& docStates() const { return docs_; }

  // Health is not transactional: it is re-derived from retained status after a crash.
  std::map<std::string, NodeHealthRecord>& health() { return health_; }
  const std::map<std::string, NodeHealthRecord>& health() const { return health_; }

  // Whether the relation index is up to date (tests: what forces a rebuild).
  bool indexesFresh() const { return index_.fresh(); }

  // Who is in which group, what a target reaches, which apps are on a document.
  const Relations& relations() const { return relations_; }
  // The documents rendered from these records.
  const DocRenderer& renderer() const { return renderer_; }

  // Renders every document, bumps generations of those whose content no longer matches
  // the stored hash (or that have none) and deletes stale ones; one batch. Returns the
  // keys that changed (to publish) in `changed` and the stale ones in `removed`.
  Status reconcileDocs(Store& store, std::vector<std::string>* changed,
                       std::vector<std::string>* removed = nullptr);

 private:
  friend class Txn;
  friend class TxnDocs;

  std::string epoch_;
  SecretsAtRest at_rest_{sealed::generateStoreKey()};
  std::map<std::string, NodeRecord> nodes_;
  std::map<std::string, GroupRecord> groups_;
  std::map<std::string, AppRecord> apps_;
  std::map<std::string, std::map<std::string, std::string>> secrets_;
  // target doc key -> host -> record
  std::map<std::string, std::map<std::string, RegistryRecord>> registries_;
  std::map<std::string, std::map<std::string, AppSpec>> tombs_;
  std::map<std::string, DocState> docs_;
  std::map<std::string, NodeHealthRecord> health_;

  // Built from the groups and apps; a Txn that may change either invalidates it.
  RelationIndex index_{groups_, apps_};
  Relations relations_{nodes_, groups_, index_};
  DocRenderer renderer_{*this};
};

// One atomic change of the registry. Mutators record the original of every record they
// touch; commit() writes the new records and document generations in one batch, or rolls
// the memory back when the write fails. Destroying an uncommitted Txn rolls back.
class Txn {
 public:
  explicit Txn(Registry& registry);
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  Registry& registry() { return reg_; }

  // Mutable access to an existing record (nullptr when absent).
  NodeRecord* node(const std::string& name);
  GroupRecord* group(const std::string& name);
  AppRecord* app(const std::string& name);
  void putNode(NodeRecord record);
  void eraseNode(const std::string& name);
  void putGroup(GroupRecord record);
  void eraseGroup(const std::string& name);
  void putApp(AppRecord record);
  void eraseApp(const std::string& name);
  void setSecrets(const std::string& app, std::map<std::string, std::string> secrets);
  void eraseSecrets(const std::string& app);
  void putRegistry(RegistryRecord record);
  void eraseRegistry(const Target& target, const std::string& host);
  void eraseRegistriesOf(const std::string& target_doc_key);
  void putTomb(const std::string& doc_key, AppSpec spec);
  void eraseTomb(const std::string& doc_key, const std::string& app);

  // The documents this change re-renders at commit (touch*), and after commit those that
  // changed (txn_docs.h).
  TxnDocs& docs() { return docs_; }
  const TxnDocs& docs() const { return docs_; }

  // Extra ops written in the same batch (revisions, events).
  WriteBatch& extra() { return extra_; }

  // Renders touched documents, bumps the generation of those whose content changed, writes
  // everything in one batch (`sync` for acknowledged changes). On failure the registry is
  // restored and the error returned. With `keep_payloads` the changed desired documents'
  // payloads, rendered here at their new generation, are kept for the publisher.
  Status commit(Store& store, bool sync = true, bool keep_payloads = false);
  void rollback();

 private:
  Registry& reg_;
  bool done_ = false;
  std::map<std::string, std::optional<NodeRecord>> orig_nodes_;
  std::map<std::string, std::optional<GroupRecord>> orig_groups_;
  std::map<std::string, std::optional<AppRecord>> orig_apps_;
  std::map<std::string, std::optional<std::map<std::string, std::string>>> orig_secrets_;
  std::map<std::string, std::optional<std::map<std::string, RegistryRecord>>> orig_registries_;
  std::map<std::string, std::optional<std::map<std::string, AppSpec>>> orig_tombs_;
  TxnDocs docs_{reg_};
  WriteBatch extra_;
};

// A random epoch id (16 hex digits).
std::string newEpoch();

}  // namespace pharos::anchor
