// The site broker's group memberships, the queued changes and their pace
// (group_memberships.h).
#include "anchor/group_memberships.h"

#include <algorithm>

namespace pharos::anchor {

void GroupMemberships::reset(Placements placed) {
  placed_ = std::move(placed);
  known_ = true;
  pending_.clear();
  // The reconciliation made the role and base group of each group it placed and deleted the
  // others: a group used again later is made again.
  made_.clear();
  for (const auto& [group, placement] : placed_) made_.insert(group);
}

void GroupMemberships::change(const std::string& node, const std::set<std::string>& added,
                              const std::set<std::string>& removed) {
  for (const auto& g : added) pending_[node][g] = true;
  for (const auto& g : removed) pending_[node][g] = false;
}

void GroupMemberships::forgetNode(const std::string& node) {
  for (auto& [group, placement] : placed_) placement.erase(node);
  pending_.erase(node);
  kicked_.erase(node);
}

void GroupMemberships::ensure(std::vector<Json>& out, const std::string& group) {
  if (made_.insert(group).second) appendGroupRightsCreate(out, group);
}

std::vector<Json> GroupMemberships::created(const std::string& node,
                                            const std::set<std::string>& groups) {
  std::vector<Json> out;
  for (const auto& g : groups) {
    ensure(out, g);
    placed_[g][node] = groupRightsName(g);
  }
  return out;
}

std::vector<std::string> GroupMemberships::bulkStep(TimePoint now) const {
  std::vector<std::string> out;
  for (const auto& [node, changes] : pending_) {
    if (out.size() == pacing_.max_nodes) break;
    auto kicked = kicked_.find(node);
    if (kicked == kicked_.end() || kicked->second + pacing_.settle <= now) out.push_back(node);
  }
  return out;
}

std::vector<Json> GroupMemberships::render(const std::vector<std::string>& nodes,
                                           std::set<std::string>* kicked) {
  std::map<std::string, std::pair<std::set<std::string>, std::set<std::string>>> by_group;
  for (const auto& node : nodes) {
    for (const auto& [group, joined] : pending_.at(node)) {
      auto& [add, remove] = by_group[group];
      (joined ? add : remove).insert(node);
    }
  }
  std::vector<Json> out;
  for (const auto& [group, change] : by_group) {
    ensure(out, group);
    const auto& [add, remove] = change;
    if (known_) {
      appendPlacementChange(out, group, placed_[group], add, remove, kicked);
      continue;
    }
    // What the broker holds is not known yet: each change on its own, in the base group
    // (harmless if done; the reconciliation corrects the rest).
    std::string base = groupRightsName(group);
    for (const auto& n : remove) {
      out.push_back(Json{{"command", "removeGroupClient"}, {"groupname", base}, {"username", n}});
    }
    for (const auto& n : add) {
      out.push_back(Json{{"command", "addGroupClient"}, {"groupname", base}, {"username", n}});
    }
  }
  return out;
}

std::vector<Json> GroupMemberships::take(TimePoint now, bool* bulk) {
  if (bulk) *bulk = false;
  std::erase_if(kicked_, [&](const auto& k) { return k.second + pacing_.settle <= now; });
  std::vector<std::string> nodes;
  bool step = known_ && pending_.size() > kBulkMembershipChanges;
  if (!step) {
    for (const auto& [node, changes] : pending_) nodes.push_back(node);
  } else if (nextDue(now) == now) {
    nodes = bulkStep(now);
  }
  std::set<std::string> kicked;
  std::vector<Json> out = render(nodes, &kicked);
  for (const auto& n : nodes) pending_.erase(n);
  if (step && !out.empty()) {
    for (const auto& n : kicked) kicked_[n] = now;
    step_in_flight_ = true;
    if (bulk) *bulk = true;
  }
  return out;
}

void GroupMemberships::stepAnswered(TimePoint now) {
  step_in_flight_ = false;
  last_step_answered_ = now;
}

std::optional<GroupMemberships::TimePoint> GroupMemberships::nextDue(TimePoint now) const {
  if (pending_.empty()) return std::nullopt;
  if (!known_ || pending_.size() <= kBulkMembershipChanges) return now;
  if (step_in_flight_) return std::nullopt;  // stepAnswered() comes first
  TimePoint due = now;
  if (last_step_answered_) due = std::max(due, *last_step_answered_ + pacing_.step_gap);
  std::optional<TimePoint> eligible;
  for (const auto& [node, changes] : pending_) {
    auto kicked = kicked_.find(node);
    TimePoint at = kicked == kicked_.end() ? now : std::max(now, kicked->second + pacing_.settle);
    if (!eligible || at < *eligible) eligible = at;
    if (*eligible == now) break;
  }
  return std::max(due, *eligible);
}

}  // namespace pharos::anchor
