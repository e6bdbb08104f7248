// Group read rights on the site broker: the broker groups group-<g> and their shards, their
// members, and the reconciliation against the registry (group_rights.h).
#include "anchor/group_rights.h"

#include <fmt/format.h>

#include <cctype>

namespace pharos::anchor {
namespace {

constexpr std::string_view kPrefix = "group-";
constexpr char kShardMark = '~';

Json clientList(const std::set<std::string>& members) {
  Json out = Json::array();
  for (const auto& m : members) out.push_back(Json{{"username", m}});
  return out;
}

Json membership(const char* command, const std::string& broker_group, const std::string& node) {
  return Json{{"command", command}, {"groupname", broker_group}, {"username", node}};
}

Json createBrokerGroup(const std::string& name, const std::string& group) {
  return Json{
      {"command", "createGroup"},
      {"groupname", name},
      {"textname", "nodes of group " + group},
      {"roles", Json::array({Json{{"rolename", groupRightsName(group)}, {"priority", 0}}})}};
}

bool holdsSomeone(const Placement& placement, const std::string& broker_group) {
  for (const auto& [node, held_by] : placement) {
    if (held_by == broker_group) return true;
  }
  return false;
}

void addAll(std::set<std::string>* to, const std::set<std::string>& nodes) {
  if (to) to->insert(nodes.begin(), nodes.end());
}

// The nodes of `group` leaving `broker_group` (they are all held there).
void appendLeave(std::vector<Json>& out, const std::string& group, Placement& have,
                 const std::string& broker_group, const std::set<std::string>& leaving,
                 std::set<std::string>* kicked) {
  std::set<std::string> stay;
  for (const auto& [node, held_by] : have) {
    if (held_by == broker_group && !leaving.count(node)) stay.insert(node);
  }
  for (const auto& n : leaving) have.erase(n);
  if (stay.empty() && broker_group != groupRightsName(group)) {
    out.push_back(Json{{"command", "deleteGroup"}, {"groupname", broker_group}});
    addAll(kicked, leaving);
  } else if (leaving.size() <= kBulkMembershipChanges) {
    for (const auto& n : leaving) out.push_back(membership("removeGroupClient", broker_group, n));
    addAll(kicked, leaving);
  } else {
    // The broker kicks the ones that stay; the ones that leave lose the right at once (the
    // broker checks read rights on every delivery).
    out.push_back(Json{
        {"command", "modifyGroup"}, {"groupname", broker_group}, {"clients", clientList(stay)}});
    addAll(kicked, stay);
  }
}

}  // namespace

std::string groupRightsName(const std::string& group) { return std::string(kPrefix) + group; }

std::string groupShardName(const std::string& group, int n) {
  return fmt::format("{}{}{}{}", kPrefix, group, kShardMark, n);
}

std::optional<std::string> rightsGroupOf(std::string_view name) {
  if (name.size() <= kPrefix.size() || name.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  std::string_view rest = name.substr(kPrefix.size());
  size_t mark = rest.find(kShardMark);
  if (mark == std::string_view::npos) return std::string(rest);
  std::string_view number = rest.substr(mark + 1);
  if (mark == 0 || number.empty() || number.size() > 9) return std::nullopt;
  for (char c : number) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return std::string(rest.substr(0, mark));
}

bool isGroupRightsName(std::string_view name) { return rightsGroupOf(name).has_value(); }

void appendGroupRightsCreate(std::vector<Json>& out, const std::string& group) {
  std::string name = groupRightsName(group);
  out.push_back(Json{{"command", "createRole"},
                     {"rolename", name},
                     {"textname", "reads the desired document of group " + group},
                     {"acls", groupReadAcls(group)}});
  out.push_back(createBrokerGroup(name, group));
}

size_t appendPlacementChange(std::vector<Json>& out, const std::string& group, Placement& have,
                             const std::set<std::string>& add, const std::set<std::string>& remove,
                             std::set<std::string>* kicked) {
  size_t changed = 0;
  std::map<std::string, std::set<std::string>> leaving;  // broker group -> its nodes leaving
  for (const auto& n : remove) {
    if (auto it = have.find(n); it != have.end()) leaving[it->second].insert(n);
  }
  for (const auto& [broker_group, nodes] : leaving) {
    changed += nodes.size();
    appendLeave(out, group, have, broker_group, nodes, kicked);
  }
  std::set<std::string> joining;
  for (const auto& n : add) {
    if (!have.count(n)) joining.insert(n);
  }
  if (joining.empty()) return changed;
  std::string target = groupRightsName(group);
  if (joining.size() <= kBulkMembershipChanges) {
    for (const auto& n : joining) out.push_back(membership("addGroupClient", target, n));
  } else {
    if (holdsSomeone(have, target)) {
      int n = 1;
      while (holdsSomeone(have, groupShardName(group, n))) ++n;
      target = groupShardName(group, n);
      out.push_back(createBrokerGroup(target, group));  // "already exists" is harmless
    }
    out.push_back(
        Json{{"command", "modifyGroup"}, {"groupname", target}, {"clients", clientList(joining)}});
  }
  for (const auto& n : joining) have[n] = target;
  addAll(kicked, joining);
  return changed + joining.size();
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
                                IdentityReport* report, Placements* placed) {
  auto note = [&](std::string line) {
    if (report) report->changes.push_back(std::move(line));
  };
  std::set<std::string> with_client;
  for (const auto& c : clients) with_client.insert(c.username);
  std::map<std::string, std::vector<std::string>> served;  // group -> its broker groups, base first
  for (const auto& [name, g] : groups) {
    if (auto group = rightsGroupOf(name)) served[*group].push_back(name);
  }
  auto wanted = membersByGroup(plan);
  for (const auto& [group, members] : wanted) {
    std::string base = groupRightsName(group);
    Json acls = groupReadAcls(group);
    std::set<std::string> want;
    for (const auto& m : members) {
      if (with_client.count(m)) want.insert(m);
    }
    std::vector<std::string> fixes;
    auto role = roles.find(base);
    if (role == roles.end()) {
      out.push_back(Json{{"command", "createRole"}, {"rolename", base}, {"acls", acls}});
      fixes.push_back("role created");
    } else if (!sameAcls(role->second, acls)) {
      out.push_back(Json{{"command", "modifyRole"}, {"rolename", base}, {"acls", acls}});
      fixes.push_back("role corrected");
    }
    bool created = !groups.count(base);
    if (created) out.push_back(createBrokerGroup(base, group));
    // Where the broker holds each member now; a second membership of one node goes.
    Placement have;
    for (const auto& name : served[group]) {
      const DynsecGroup& g = groups.at(name);
      if (!g.roles.count(base)) {
        out.push_back(Json{{"command", "addGroupRole"}, {"groupname", name}, {"rolename", base}});
        fixes.push_back("role given to " + name);
      }
      for (const auto& c : g.clients) {
        if (with_client.count(c) && have.emplace(c, name).second) continue;
        // A second membership, or one of a name with no client on this broker.
        out.push_back(membership("removeGroupClient", name, c));
        fixes.push_back(fmt::format("{} removed from {}", c, name));
      }
      if (name != base && !holdsSomeone(have, name)) {
        out.push_back(Json{{"command", "deleteGroup"}, {"groupname", name}});
        fixes.push_back("empty " + name + " removed");
      }
    }
    std::set<std::string> add, remove;
    for (const auto& m : want) {
      if (!have.count(m)) add.insert(m);
    }
    for (const auto& [m, held_by] : have) {
      if (!want.count(m)) remove.insert(m);
    }
    if (size_t n = appendPlacementChange(out, group, have, add, remove); n > 0) {
      fixes.push_back(fmt::format("{} members corrected", n));
    }
    if (placed) (*placed)[group] = have;
    if (created) {
      if (report) ++report->groups_created;
      note(fmt::format("group {}: broker group {} created with {} members", group, base,
                       have.size()));
      continue;
    }
    if (fixes.empty()) continue;
    if (report) ++report->groups_changed;
    std::string what;
    for (const auto& f : fixes) what += (what.empty() ? "" : ", ") + f;
    note(fmt::format("group {}: broker group {}: {}", group, base, what));
  }
  for (const auto& [group, names] : served) {
    if (wanted.count(group)) continue;
    for (const auto& name : names) {
      out.push_back(Json{{"command", "deleteGroup"}, {"groupname", name}});
      if (report) ++report->groups_removed;
      note(fmt::format("broker group {}: removed (no registered node is in its group)", name));
    }
  }
  for (const auto& [name, acls] : roles) {
    auto group = rightsGroupOf(name);
    if (!group || wanted.count(*group)) continue;
    out.push_back(Json{{"command", "deleteRole"}, {"rolename", name}});
  }
}

}  // namespace pharos::anchor
