// Relations: membership and targeting queries over the registry's records (relations.h).
// Runs on the anchor's strand.
#include "anchor/relations.h"

#include <deque>

namespace pharos::anchor {

std::set<std::string> Relations::directGroupsOf(const std::string& node) const {
  return index_.groupsOf(node);
}

std::set<std::string> Relations::parentsOf(const std::string& group) const {
  return index_.parentsOf(group);
}

std::set<std::string> Relations::effectiveGroups(const std::string& node) const {
  std::set<std::string> out;
  const std::set<std::string>& direct = index_.groupsOf(node);
  std::deque<std::string> queue(direct.begin(), direct.end());
  while (!queue.empty()) {
    std::string g = std::move(queue.front());
    queue.pop_front();
    if (!out.insert(g).second) continue;
    for (const auto& parent : index_.parentsOf(g)) queue.push_back(parent);
  }
  return out;
}

std::set<std::string> Relations::effectiveMembers(const std::string& group) const {
  std::set<std::string> out;
  std::set<std::string> seen;
  std::deque<std::string> queue{group};
  while (!queue.empty()) {
    std::string g = std::move(queue.front());
    queue.pop_front();
    if (!seen.insert(g).second) continue;
    auto it = groups_.find(g);
    if (it == groups_.end()) continue;
    out.insert(it->second.nodes.begin(), it->second.nodes.end());
    for (const auto& c : it->second.groups) queue.push_back(c);
  }
  return out;
}

std::set<std::string> Relations::targetNodes(const Target& target) const {
  std::set<std::string> candidates;
  if (target.kind == Target::Kind::kNode) {
    candidates.insert(target.name);
  } else {
    candidates = effectiveMembers(target.name);
  }
  std::set<std::string> out;
  for (const auto& n : candidates) {
    auto it = nodes_.find(n);
    if (it != nodes_.end() && it->second.registration != Registration::kPending) out.insert(n);
  }
  return out;
}

std::vector<std::string> Relations::pathDown(const std::string& from, const std::string& to) const {
  // Depth-first search with parent links to rebuild the path.
  std::map<std::string, std::string> parent;
  std::deque<std::string> stack{from};
  std::set<std::string> seen{from};
  while (!stack.empty()) {
    std::string g = stack.back();
    stack.pop_back();
    if (g == to) {
      std::vector<std::string> path{g};
      while (path.back() != from) path.push_back(parent[path.back()]);
      return {path.rbegin(), path.rend()};
    }
    auto it = groups_.find(g);
    if (it == groups_.end()) continue;
    for (const auto& c : it->second.groups) {
      if (seen.insert(c).second) {
        parent[c] = g;
        stack.push_back(c);
      }
    }
  }
  return {};
}

std::set<std::string> Relations::appsOn(const std::string& doc_key) const {
  return index_.appsOn(doc_key);
}

}  // namespace pharos::anchor
