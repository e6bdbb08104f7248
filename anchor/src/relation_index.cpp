// RelationIndex: the lazily built reverse lookups (relation_index.h). Runs on the anchor's
// strand.
#include "anchor/relation_index.h"

namespace pharos::anchor {
namespace {

const std::set<std::string>& lookup(const std::map<std::string, std::set<std::string>>& index,
                                    const std::string& key, const std::set<std::string>& none) {
  auto it = index.find(key);
  return it == index.end() ? none : it->second;
}

}  // namespace

const std::set<std::string>& RelationIndex::groupsOf(const std::string& node) const {
  ensureBuilt();
  return lookup(node_groups_, node, none_);
}

const std::set<std::string>& RelationIndex::parentsOf(const std::string& group) const {
  ensureBuilt();
  return lookup(group_parents_, group, none_);
}

const std::set<std::string>& RelationIndex::appsOn(const std::string& doc_key) const {
  ensureBuilt();
  return lookup(apps_by_doc_, doc_key, none_);
}

void RelationIndex::ensureBuilt() const {
  if (!dirty_) return;
  node_groups_.clear();
  group_parents_.clear();
  apps_by_doc_.clear();
  for (const auto& [name, g] : groups_) {
    for (const auto& n : g.nodes) node_groups_[n].insert(name);
    for (const auto& c : g.groups) group_parents_[c].insert(name);
  }
  for (const auto& [name, app] : apps_) apps_by_doc_[targetDocKey(app.target)].insert(name);
  dirty_ = false;
}

}  // namespace pharos::anchor
