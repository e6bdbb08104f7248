// group.get's tree and ancestor paths (group_view.h). Breadth-first, so when the entry budget
// runs out the levels near the group are complete and the deepest ones are cut (marked
// truncated). Runs on the anchor's strand.
#include "anchor/group_view.h"

#include <deque>
#include <functional>

namespace pharos::anchor {

namespace {

std::vector<std::string> sorted(const std::set<std::string>& s) { return {s.begin(), s.end()}; }

}  // namespace

GroupGetResult describeGroup(const Registry& reg, const std::string& name, int depth) {
  GroupGetResult out;
  const GroupRecord* g = reg.findGroup(name);
  if (!g) return out;
  out.name = g->name;
  out.parents = sorted(reg.relations().parentsOf(name));
  out.nodes = sorted(g->nodes);
  out.groups = sorted(g->groups);
  out.apps = sorted(reg.relations().appsOn(docKey(DocKind::kGroup, name)));
  out.effective_node_count = static_cast<int64_t>(reg.relations().effectiveMembers(name).size());
  out.created = g->created;
  out.depth = depth;

  // The subtree, breadth-first. Every group entry and every node costs one unit of budget;
  // the root is free. An entry whose members do not fit, or that lies at the depth limit
  // with children, is marked truncated.
  size_t budget = kMaxGroupTreeEntries;
  out.tree.name = name;
  struct Item {
    GroupTreeEntry* entry;
    int level;
  };
  std::deque<Item> queue{{&out.tree, 0}};
  while (!queue.empty()) {
    Item item = queue.front();
    queue.pop_front();
    const GroupRecord* rec = reg.findGroup(item.entry->name);
    if (!rec) continue;
    item.entry->apps = sorted(reg.relations().appsOn(docKey(DocKind::kGroup, rec->name)));
    for (const auto& n : rec->nodes) {
      if (budget == 0) {
        item.entry->truncated = true;
        break;
      }
      --budget;
      item.entry->nodes.push_back(n);
    }
    if (rec->groups.empty()) continue;
    if (item.level >= depth) {
      item.entry->truncated = true;
      continue;
    }
    // Reserve first, then take addresses: the vector must not reallocate afterwards.
    item.entry->groups.reserve(std::min(rec->groups.size(), budget));
    for (const auto& c : rec->groups) {
      if (budget == 0) {
        item.entry->truncated = true;
        break;
      }
      --budget;
      item.entry->groups.push_back(GroupTreeEntry{c, {}, {}, {}, false});
    }
    for (auto& child : item.entry->groups) queue.push_back({&child, item.level + 1});
  }

  // Ancestor paths, top first: depth-first upwards from each parent.
  bool paths_cut = false;
  std::vector<std::string> up;  // name's parent, grandparent, ... (bottom first)
  std::function<void(const std::string&)> climb = [&](const std::string& group) {
    if (out.ancestors.size() >= kMaxAncestorPaths) {
      paths_cut = true;
      return;
    }
    up.push_back(group);
    std::set<std::string> parents = reg.relations().parentsOf(group);
    if (parents.empty() || up.size() >= static_cast<size_t>(kMaxGroupTreeDepth)) {
      if (!parents.empty()) paths_cut = true;  // deeper than we list: keep the lower part
      out.ancestors.emplace_back(up.rbegin(), up.rend());
    } else {
      for (const auto& p : parents) climb(p);
    }
    up.pop_back();
  };
  for (const auto& p : out.parents) climb(p);

  std::function<bool(const GroupTreeEntry&)> cut = [&](const GroupTreeEntry& e) {
    if (e.truncated) return true;
    for (const auto& c : e.groups) {
      if (cut(c)) return true;
    }
    return false;
  };
  out.truncated = paths_cut || cut(out.tree);
  return out;
}

}  // namespace pharos::anchor
