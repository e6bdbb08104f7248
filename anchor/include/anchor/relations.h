// What the registry's records say about each other: the groups a node is in (directly or
// through nested groups), a group's parents and effective members, the nodes an app target
// reaches, the apps on a document and the membership path between two groups (to refuse
// cycles). Pure queries over the node and group records it is given and their
// RelationIndex; every answer is a copy, valid across later changes.
//
// Threading: owned by the Registry, on the anchor's strand; not thread-safe (a query may
// rebuild the index).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "anchor/model.h"
#include "anchor/relation_index.h"

namespace pharos::anchor {

class Relations {
 public:
  Relations(const std::map<std::string, NodeRecord>& nodes,
            const std::map<std::string, GroupRecord>& groups, const RelationIndex& index)
      : nodes_(nodes), groups_(groups), index_(index) {}
  Relations(const Relations&) = delete;
  Relations& operator=(const Relations&) = delete;

  // Groups that list `node` directly.
  std::set<std::string> directGroupsOf(const std::string& node) const;
  // Groups that list `group` as a member (its parents).
  std::set<std::string> parentsOf(const std::string& group) const;
  // Direct groups and all their ancestors.
  std::set<std::string> effectiveGroups(const std::string& node) const;
  // `group`'s nodes, direct or through nested groups (any registration state).
  std::set<std::string> effectiveMembers(const std::string& group) const;
  // Nodes an app target reaches that have desired documents (accepted or removing).
  std::set<std::string> targetNodes(const Target& target) const;
  // The membership path from `from` down to `to` ("a > b > c"), when `to` is `from` or
  // nested (at any depth) inside it; empty otherwise. Used to refuse cycles.
  std::vector<std::string> pathDown(const std::string& from, const std::string& to) const;
  // Apps (any state) whose target document is `doc_key`.
  std::set<std::string> appsOn(const std::string& doc_key) const;

 private:
  const std::map<std::string, NodeRecord>& nodes_;
  const std::map<std::string, GroupRecord>& groups_;
  const RelationIndex& index_;
};

}  // namespace pharos::anchor
