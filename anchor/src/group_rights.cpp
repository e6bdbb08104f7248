// Group read rights on the site broker: broker groups group-<g> and their members
// (group_rights.h). Pure functions and the GroupMemberships queue.
#include "anchor/group_rights.h"

#include <fmt/format.h>

namespace pharos::anchor {
namespace {

constexpr std::string_view kPrefix = "group-";

Json clientList(const std::set<std::string>& members) {
  Json out = Json::array();
  for (const auto& m : members) out.push_back(Json{{"username", m}});
  return out;
}

Json membershipCommand(const char* command, const std::string& group, const std::string& node) {
  return Json{{"command", command}, {"groupname", groupRightsName(group)}, {"username", node}};
}

}  // namespace

std::string groupRightsName(const std::string& group) { return std::string(kPrefix) + group; }

bool isGroupRightsName(std::string_view name) {
  return name.size() > kPrefix.size() && name.substr(0, kPrefix.size()) == kPrefix;
}

void appendGroupRightsCreate(std::vector<Json>& out, const std::string& group) {
  std::string name = groupRightsName(group);
  out.push_back(Json{{"command", "createRole"},
                     {"rolename", name},
                     {"textname", "reads the desired document of group " + group},
                     {"acls", groupReadAcls(group)}});
  out.push_back(Json{{"command", "createGroup"},
                     {"groupname", name},
                     {"textname", "nodes of group " + group},
                     {"roles", Json::array({Json{{"rolename", name}, {"priority", 0}}})}});
}

size_t appendMembershipChange(std::vector<Json>& out, const std::string& group,
                              const std::set<std::string>& have,
                              const std::set<std::string>& want) {
  std::vector<std::string> added, removed;
  for (const auto& n : want) {
    if (!have.count(n)) added.push_back(n);
  }
  for (const auto& n : have) {
    if (!want.count(n)) removed.push_back(n);
  }
  size_t changes = added.size() + removed.size();
  if (changes > kBulkMembershipChanges) {
    out.push_back(Json{{"command", "modifyGroup"},
                       {"groupname", groupRightsName(group)},
                       {"clients", clientList(want)}});
    return changes;
  }
  for (const auto& n : removed) out.push_back(membershipCommand("removeGroupClient", group, n));
  for (const auto& n : added) out.push_back(membershipCommand("addGroupClient", group, n));
  return changes;
}

std::map<std::string, std::set<std::string>> membersByGroup(const IdentityPlan& plan) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& [node, groups] : plan.local_nodes) {
    for (const auto& g : groups) out[g].insert(node);
  }
  return out;
}

void appendGroupRightsReconcile(std::vector<Json>& out, const std::vector<DynsecClient>& clients,
                                const std::map<std::string, Json>& roles,
                                const DynsecGroups& groups, const IdentityPlan& plan,
                                IdentityReport* report) {
  auto note = [&](std::string line) {
    if (report) report->changes.push_back(std::move(line));
  };
  std::set<std::string> with_client;
  for (const auto& c : clients) with_client.insert(c.username);
  auto wanted = membersByGroup(plan);
  for (const auto& [group, members] : wanted) {
    std::string name = groupRightsName(group);
    Json acls = groupReadAcls(group);
    std::set<std::string> want;
    for (const auto& m : members) {
      if (with_client.count(m)) want.insert(m);
    }
    auto role = roles.find(name);
    auto have = groups.find(name);
    if (have == groups.end()) {
      if (role != roles.end()) out.push_back(Json{{"command", "deleteRole"}, {"rolename", name}});
      appendGroupRightsCreate(out, group);
      appendMembershipChange(out, group, {}, want);
      if (report) ++report->groups_created;
      note(fmt::format("group {}: broker group {} created with {} members", group, name,
                       want.size()));
      continue;
    }
    std::vector<std::string> fixes;
    if (role == roles.end()) {
      out.push_back(Json{{"command", "createRole"}, {"rolename", name}, {"acls", acls}});
      fixes.push_back("role created");
    } else if (!sameAcls(role->second, acls)) {
      out.push_back(Json{{"command", "modifyRole"}, {"rolename", name}, {"acls", acls}});
      fixes.push_back("role corrected");
    }
    if (!have->second.roles.count(name)) {
      out.push_back(Json{{"command", "addGroupRole"}, {"groupname", name}, {"rolename", name}});
      fixes.push_back("role given");
    }
    if (size_t n = appendMembershipChange(out, group, have->second.clients, want); n > 0) {
      fixes.push_back(fmt::format("{} members corrected", n));
    }
    if (fixes.empty()) continue;
    if (report) ++report->groups_changed;
    std::string what;
    for (const auto& f : fixes) what += (what.empty() ? "" : ", ") + f;
    note(fmt::format("group {}: broker group {}: {}", group, name, what));
  }
  for (const auto& [name, group] : groups) {
    if (!isGroupRightsName(name) || wanted.count(name.substr(kPrefix.size()))) continue;
    out.push_back(Json{{"command", "deleteGroup"}, {"groupname", name}});
    if (report) ++report->groups_removed;
    note(fmt::format("broker group {}: removed (no registered node is in its group)", name));
  }
  for (const auto& [name, acls] : roles) {
    if (!isGroupRightsName(name) || wanted.count(name.substr(kPrefix.size()))) continue;
    out.push_back(Json{{"command", "deleteRole"}, {"rolename", name}});
  }
}

void GroupMemberships::reset(std::map<std::string, std::set<std::string>> members) {
  members_ = std::move(members);
  known_ = true;
}

void GroupMemberships::change(const std::string& node, const std::set<std::string>& added,
                              const std::set<std::string>& removed) {
  for (const auto& g : added) {
    pending_[g].remove.erase(node);
    pending_[g].add.insert(node);
  }
  for (const auto& g : removed) {
    pending_[g].add.erase(node);
    pending_[g].remove.insert(node);
  }
}

void GroupMemberships::forgetNode(const std::string& node) {
  for (auto& [group, members] : members_) members.erase(node);
  for (auto& [group, delta] : pending_) {
    delta.add.erase(node);
    delta.remove.erase(node);
  }
}

void GroupMemberships::ensure(std::vector<Json>& out, const std::string& group) {
  if (made_.insert(group).second) appendGroupRightsCreate(out, group);
}

std::vector<Json> GroupMemberships::created(const std::string& node,
                                            const std::set<std::string>& groups) {
  std::vector<Json> out;
  for (const auto& g : groups) {
    ensure(out, g);
    members_[g].insert(node);
  }
  return out;
}

std::vector<Json> GroupMemberships::take() {
  std::vector<Json> out;
  for (auto& [group, delta] : pending_) {
    if (delta.add.empty() && delta.remove.empty()) continue;
    ensure(out, group);
    std::set<std::string>& have = members_[group];
    if (known_) {
      std::set<std::string> want = have;
      for (const auto& n : delta.add) want.insert(n);
      for (const auto& n : delta.remove) want.erase(n);
      appendMembershipChange(out, group, have, want);
      have = std::move(want);
      continue;
    }
    // What the broker holds is not known yet: each change on its own (harmless if done).
    for (const auto& n : delta.remove) {
      out.push_back(membershipCommand("removeGroupClient", group, n));
      have.erase(n);
    }
    for (const auto& n : delta.add) {
      out.push_back(membershipCommand("addGroupClient", group, n));
      have.insert(n);
    }
  }
  pending_.clear();
  return out;
}

}  // namespace pharos::anchor
