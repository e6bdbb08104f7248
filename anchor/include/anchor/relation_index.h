// The reverse lookups the registry's relations need (relations.h): the groups that list a
// node, the groups that list a group (its parents) and the apps that target a document.
// Derived from the group and app records it is given, built lazily at the first lookup
// after invalidate(); whoever changes a group or an app (Txn) invalidates it.
//
// Threading: owned by the Registry, on the anchor's strand; not thread-safe (a lookup may
// rebuild it).
#pragma once

#include <map>
#include <set>
#include <string>

#include "anchor/model.h"

namespace pharos::anchor {

class RelationIndex {
 public:
  RelationIndex(const std::map<std::string, GroupRecord>& groups,
                const std::map<std::string, AppRecord>& apps)
      : groups_(groups), apps_(apps) {}
  RelationIndex(const RelationIndex&) = delete;
  RelationIndex& operator=(const RelationIndex&) = delete;

  // The next lookup rebuilds the index from the records.
  void invalidate() { dirty_ = true; }
  // Whether the index is up to date (tests: what forces a rebuild).
  bool fresh() const { return !dirty_; }

  // The lookups (empty when nothing matches). A reference stays valid until the next
  // lookup after invalidate().
  // Groups that list `node` directly.
  const std::set<std::string>& groupsOf(const std::string& node) const;
  // Groups that list `group` as a member.
  const std::set<std::string>& parentsOf(const std::string& group) const;
  // Apps (any state) whose target document is `doc_key`.
  const std::set<std::string>& appsOn(const std::string& doc_key) const;

 private:
  void ensureBuilt() const;

  const std::map<std::string, GroupRecord>& groups_;
  const std::map<std::string, AppRecord>& apps_;
  mutable bool dirty_ = true;
  mutable std::map<std::string, std::set<std::string>> node_groups_;    // node -> groups
  mutable std::map<std::string, std::set<std::string>> group_parents_;  // child -> parents
  mutable std::map<std::string, std::set<std::string>> apps_by_doc_;    // doc key -> apps
  const std::set<std::string> none_;  // what a lookup that matches nothing returns
};

}  // namespace pharos::anchor
