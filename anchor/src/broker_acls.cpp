// Release ACLs of every identity kind and the reconciliation of the broker's identities with
// the registry (broker_acls.h). Mirrors tools/dynsec.py's agent_role, operator_role,
// viewer_role and bridge_role. Pure functions.
#include "anchor/broker_acls.h"

#include <fmt/format.h>

#include <tuple>

#include "anchor/broker_admin.h"
#include "anchor/group_rights.h"
#include "pharos/topics.h"

namespace pharos::anchor {
namespace {

using topics::NodeTopic;

constexpr const char* kRoot = "pharos/v1";

Json acl(const char* type, const std::string& topic, bool allow = true, int priority = 0) {
  return Json{{"acltype", type}, {"topic", topic}, {"priority", priority}, {"allow", allow}};
}

// Subscribe (literal), receive, unsubscribe (literal) of one topic.
void readLiteral(Json& acls, const std::string& topic) {
  acls.push_back(acl("subscribeLiteral", topic));
  acls.push_back(acl("publishClientReceive", topic));
  acls.push_back(acl("unsubscribeLiteral", topic));
}

// dynsec.py read_only: receive and subscribe (pattern) allowed or denied, unsubscribe allowed.
void readPattern(Json& acls, const std::string& topic, bool allow = true, int priority = 0) {
  acls.push_back(acl("publishClientReceive", topic, allow, priority));
  acls.push_back(acl("subscribePattern", topic, allow, priority));
  acls.push_back(acl("unsubscribePattern", topic, true, priority));
}

std::string under(const std::string& rest) { return fmt::format("{}/{}", kRoot, rest); }

// dynsec.py _reader_acls: everything but secrets, other users' answers, API requests and the
// lines' control topics.
void readerAcls(Json& acls, const std::string& user) {
  readPattern(acls, topics::allReplies(user), true, 30);
  readPattern(acls, topics::allNodeCmdReplies("+", user), true, 30);
  readPattern(acls, under("replies/#"), false, 20);
  readPattern(acls, under("nodes/+/cmd-replies/#"), false, 20);
  readPattern(acls, topics::allNodes(NodeTopic::kSecrets), false, 20);
  readPattern(acls, under("api/#"), false, 20);
  readPattern(acls, under("lines/#"), false, 20);
  readPattern(acls, under("#"), true, 0);
}

constexpr NodeTopic kAgentPublishes[] = {NodeTopic::kStatus,  NodeTopic::kInfo,
                                         NodeTopic::kState,   NodeTopic::kEvents,
                                         NodeTopic::kMetrics, NodeTopic::kHeartbeat};

using AclKey = std::tuple<std::string, std::string>;  // acltype, topic
using AclValue = std::tuple<bool, int64_t>;           // allow, priority

std::map<AclKey, AclValue> aclMap(const Json& acls) {
  std::map<AclKey, AclValue> out;
  if (!acls.is_array()) return out;
  for (const auto& a : acls) {
    if (!a.is_object() || !a.contains("acltype") || !a["acltype"].is_string() ||
        !a.contains("topic") || !a["topic"].is_string()) {
      continue;
    }
    bool allow = a.contains("allow") && a["allow"].is_boolean() ? a["allow"].get<bool>() : false;
    int64_t priority = a.contains("priority") && a["priority"].is_number_integer()
                           ? a["priority"].get<int64_t>()
                           : 0;
    out[{a["acltype"].get<std::string>(), a["topic"].get<std::string>()}] = {allow, priority};
  }
  return out;
}

bool hasPrefix(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

Json groupReadAcls(const std::string& group) {
  Json acls = Json::array();
  readLiteral(acls, topics::groupDesired(group));
  return acls;
}

Json agentRoleAcls(const std::string& node, const std::set<std::string>& groups) {
  Json acls = Json::array();
  for (NodeTopic t : kAgentPublishes)
    acls.push_back(acl("publishClientSend", topics::node(node, t)));
  // Answers to cmd requests, inside its own subtree (readable by the requesting user only).
  acls.push_back(acl("publishClientSend", under(fmt::format("nodes/{}/cmd-replies/#", node))));
  readLiteral(acls, topics::node(node, NodeTopic::kDesired));
  readLiteral(acls, topics::node(node, NodeTopic::kSecrets));
  readPattern(acls, topics::nodeCmd(node, "#"));
  readLiteral(acls, topics::anchorStatus());
  for (const auto& g : groups) {
    for (auto& a : groupReadAcls(g)) acls.push_back(std::move(a));
  }
  return acls;
}

Json operatorRoleAcls(const std::string& user) {
  Json acls = Json::array();
  acls.push_back(acl("publishClientSend", under(fmt::format("api/{}/#", user))));
  // Commands only under its own name (nodes/+/cmd/+/{user}): the agent answers that user.
  acls.push_back(acl("publishClientSend", topics::nodeCmd("+", "+", user)));
  readerAcls(acls, user);
  return acls;
}

Json viewerRoleAcls(const std::string& user) {
  Json acls = Json::array();
  acls.push_back(acl("publishClientSend", under(fmt::format("api/{}/#", user))));
  for (const char* command : {"logs", "inspect"}) {
    acls.push_back(acl("publishClientSend", topics::nodeCmd("+", command, user)));
  }
  readerAcls(acls, user);
  return acls;
}

Json bridgeRoleAcls(const std::string& line) {
  Json acls = Json::array();
  for (NodeTopic t : kAgentPublishes) acls.push_back(acl("publishClientSend", topics::allNodes(t)));
  acls.push_back(acl("publishClientSend", under("nodes/+/cmd-replies/#")));
  acls.push_back(
      acl("publishClientSend", fmt::format("$SYS/broker/connection/bridge-{}/state", line)));
  for (const std::string& in :
       {topics::allNodes(NodeTopic::kDesired), topics::allNodes(NodeTopic::kSecrets),
        topics::nodeCmd("+", "#"), topics::allGroupsDesired(), topics::anchorStatus()}) {
    readPattern(acls, in);
  }
  readPattern(acls, topics::lineControl(line));
  acls.push_back(acl("publishClientSend", topics::lineControlResponse(line)));
  acls.push_back(acl("publishClientSend", topics::lineHeartbeat(line)));
  return acls;
}

bool IdentityReport::changed() const {
  return roles_changed + roles_created + memberships_added + orphan_roles_removed +
             identities_removed + groups_created + groups_changed + groups_removed >
         0;
}

bool sameAcls(const Json& a, const Json& b) { return aclMap(a) == aclMap(b); }

std::vector<Json> identityCommands(const std::vector<DynsecClient>& clients,
                                   const std::map<std::string, Json>& roles,
                                   const DynsecGroups& groups, const IdentityPlan& plan,
                                   IdentityReport* report, Placements* placed) {
  std::vector<Json> out;
  std::set<std::string> held;  // roles an identity of the right kind holds (kept)
  auto note = [&](std::string line) {
    if (report) report->changes.push_back(std::move(line));
  };
  for (const auto& c : clients) {
    BrokerUser user;
    user.found = true;
    user.roles = c.roles;
    user.groups = c.groups;
    AccountKind kind = accountKindOf(c.username, user);
    std::string role;
    Json want;
    switch (kind) {
      case AccountKind::kNode: {
        if (plan.remote_nodes.count(c.username)) {
          held.insert(agentRoleName(c.username));  // deleted here, not again as an orphan
          out.push_back(Json{{"command", "deleteClient"}, {"username", c.username}});
          out.push_back(Json{{"command", "deleteRole"}, {"rolename", agentRoleName(c.username)}});
          if (report) ++report->identities_removed;
          note(
              fmt::format("node {}: removed its identity on {} (it connects through another "
                          "broker)",
                          c.username, plan.broker));
          continue;
        }
        role = agentRoleName(c.username);
        auto it = plan.local_nodes.find(c.username);
        bool in_role = plan.group_rights == GroupRights::kAgentRole;
        want = agentRoleAcls(c.username, in_role && it != plan.local_nodes.end()
                                             ? it->second
                                             : std::set<std::string>{});
        break;
      }
      case AccountKind::kOperator:
        role = "operator-" + c.username;
        want = operatorRoleAcls(c.username);
        break;
      case AccountKind::kViewer:
        role = "viewer-" + c.username;
        want = viewerRoleAcls(c.username);
        break;
      case AccountKind::kBridge:
        if (!hasPrefix(c.username, "bridge-")) continue;
        role = c.username;
        want = bridgeRoleAcls(c.username.substr(7));
        break;
      default:
        // System accounts and identities of no known kind: left as they are (their roles too).
        for (const auto& r : c.roles) held.insert(r);
        continue;
    }
    for (const auto& r : c.roles) held.insert(r);
    held.insert(role);
    if (report) ++report->roles_checked;
    auto have = roles.find(role);
    if (have == roles.end()) {
      out.push_back(Json{{"command", "createRole"}, {"rolename", role}, {"acls", want}});
      if (report) ++report->roles_created;
      note(fmt::format("{} {}: created its missing role {}", accountKindName(kind), c.username,
                       role));
    } else if (!sameAcls(have->second, want)) {
      // One command for the whole set: the broker rewrites its file once per command.
      auto current = aclMap(have->second);
      auto wanted = aclMap(want);
      size_t removed = 0, added = 0;
      for (const auto& [key, value] : current) {
        auto w = wanted.find(key);
        if (w == wanted.end() || w->second != value) ++removed;
      }
      for (const auto& [key, value] : wanted) {
        auto h = current.find(key);
        if (h == current.end() || h->second != value) ++added;
      }
      out.push_back(Json{{"command", "modifyRole"}, {"rolename", role}, {"acls", want}});
      if (report) {
        ++report->roles_changed;
        report->acls_removed += removed;
        report->acls_added += added;
      }
      note(fmt::format("{} {}: role {} corrected ({} ACLs removed, {} added)",
                       accountKindName(kind), c.username, role, removed, added));
    }
    if (!c.roles.count(role)) {
      out.push_back(
          Json{{"command", "addClientRole"}, {"username", c.username}, {"rolename", role}});
      if (report) ++report->memberships_added;
      note(fmt::format("{} {}: given its role {}", accountKindName(kind), c.username, role));
    }
  }
  // Roles of the kinds the anchor manages that no identity holds.
  for (const auto& [name, acls] : roles) {
    if (held.count(name)) continue;
    if (!hasPrefix(name, "agent-") && !hasPrefix(name, "operator-") &&
        !hasPrefix(name, "viewer-") && !hasPrefix(name, "bridge-")) {
      continue;
    }
    // A registered node's role with no client yet: `node.add` creates the role, then the
    // client, and may do so between this run's two reads. It stays.
    if (hasPrefix(name, "agent-") && plan.local_nodes.count(name.substr(6))) continue;
    out.push_back(Json{{"command", "deleteRole"}, {"rolename", name}});
    if (report) ++report->orphan_roles_removed;
    note(fmt::format("role {}: removed (no identity holds it)", name));
  }
  if (plan.group_rights == GroupRights::kBrokerGroups) {
    appendGroupRightsReconcile(out, clients, roles, groups, plan, report, placed);
  }
  return out;
}

}  // namespace pharos::anchor
