// The release ACLs of each identity kind and identityCommands: an identity whose role drifted
// from this release gets the release's ACLs in one command, group rights become broker-group
// memberships at the site, orphan roles go, system accounts and
// unknown kinds are left alone, a node that lives on a line loses its site identity.
#include "anchor/broker_acls.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "anchor/broker_admin.h"
#include "anchor/group_rights.h"

using namespace pharos;
using namespace pharos::anchor;

namespace {

std::vector<std::string> summary(const std::vector<Json>& commands) {
  std::vector<std::string> out;
  for (const auto& c : commands) {
    std::string line = c["command"].get<std::string>();
    for (const char* key : {"rolename", "username", "acltype", "topic"}) {
      if (c.contains(key)) line += " " + c[key].get<std::string>();
    }
    out.push_back(line);
  }
  return out;
}

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

DynsecClient client(std::string name, std::set<std::string> roles, std::set<std::string> groups) {
  return DynsecClient{std::move(name), std::move(roles), std::move(groups)};
}

}  // namespace

TEST_CASE("an agent publishes only inside its own subtree") {
  for (const auto& a : agentRoleAcls("press-1", {"hall"})) {
    if (a["acltype"] != "publishClientSend") continue;
    CHECK(a["topic"].get<std::string>().rfind("pharos/v1/nodes/press-1/", 0) == 0);
  }
}

TEST_CASE("operators and viewers send commands only under their own name") {
  std::vector<std::string> ops, viewer;
  for (const auto& a : operatorRoleAcls("ops")) {
    if (a["acltype"] == "publishClientSend") ops.push_back(a["topic"]);
  }
  for (const auto& a : viewerRoleAcls("viewer")) {
    if (a["acltype"] == "publishClientSend") viewer.push_back(a["topic"]);
  }
  CHECK(ops == std::vector<std::string>{"pharos/v1/api/ops/#", "pharos/v1/nodes/+/cmd/+/ops"});
  CHECK(viewer == std::vector<std::string>{"pharos/v1/api/viewer/#",
                                           "pharos/v1/nodes/+/cmd/logs/viewer",
                                           "pharos/v1/nodes/+/cmd/inspect/viewer"});
}

TEST_CASE("an operator role with the command wildcard of earlier releases is narrowed") {
  Json old = Json::array();
  for (const auto& a : operatorRoleAcls("ops")) {
    if (a["topic"] == "pharos/v1/nodes/+/cmd/+/ops") continue;
    old.push_back(a);
  }
  old.push_back(Json{{"acltype", "publishClientSend"},
                     {"topic", "pharos/v1/nodes/+/cmd/#"},
                     {"priority", 0},
                     {"allow", true}});
  std::vector<DynsecClient> clients = {client("ops", {"operator-ops"}, {"operators"})};
  IdentityReport report;
  auto commands = identityCommands(clients, {{"operator-ops", old}}, {}, IdentityPlan{}, &report);
  CHECK(summary(commands) == std::vector<std::string>{"modifyRole operator-ops"});
  CHECK(sameAcls(commands[0]["acls"], operatorRoleAcls("ops")));
  CHECK(report.roles_changed == 1);
  CHECK(report.acls_removed == 1);
  CHECK(report.acls_added == 1);
}

TEST_CASE("identities already in line need no command") {
  std::vector<DynsecClient> clients = {
      client("anchor", {"anchor"}, {}),
      client("ops", {"operator-ops"}, {"operators"}),
      client("viewer", {"viewer-viewer"}, {"viewers"}),
      client("bridge-l1", {"bridge-l1"}, {}),
      client("n1", {"agent-n1"}, {"agents"}),
  };
  std::map<std::string, Json> roles = {{"anchor", Json::array()},
                                       {"operator-ops", operatorRoleAcls("ops")},
                                       {"viewer-viewer", viewerRoleAcls("viewer")},
                                       {"bridge-l1", bridgeRoleAcls("l1")},
                                       {"agent-n1", agentRoleAcls("n1", {})},
                                       {"group-hall", groupReadAcls("hall")}};
  DynsecGroups groups = {{"group-hall", DynsecGroup{{"group-hall"}, {"n1"}}}};
  IdentityPlan plan;
  plan.local_nodes["n1"] = {"hall"};
  IdentityReport report;
  CHECK(identityCommands(clients, roles, groups, plan, &report).empty());
  CHECK(report.roles_checked == 4);
  CHECK_FALSE(report.changed());
}

TEST_CASE("a drifted role is replaced in one command, with the difference counted") {
  Json old = agentRoleAcls("n1", {"old-group"});
  old.push_back(Json{{"acltype", "publishClientSend"},
                     {"topic", "pharos/v1/replies/+/#"},
                     {"priority", 0},
                     {"allow", true}});
  std::vector<DynsecClient> clients = {client("n1", {"agent-n1"}, {"agents"})};
  IdentityPlan plan;
  plan.group_rights = GroupRights::kAgentRole;  // a line broker: group rights in the role
  plan.local_nodes["n1"] = {"hall"};
  IdentityReport report;
  auto commands = identityCommands(clients, {{"agent-n1", old}}, {}, plan, &report);
  CHECK(summary(commands) == std::vector<std::string>{"modifyRole agent-n1"});
  CHECK(sameAcls(commands[0]["acls"], agentRoleAcls("n1", {"hall"})));
  CHECK(report.roles_changed == 1);
  CHECK(report.acls_removed == 4);  // replies/+/# and old-group's 3
  CHECK(report.acls_added == 3);    // hall's 3
  CHECK(report.changes.size() == 1);
}

TEST_CASE("at the site a node's group rights leave its role for broker-group memberships") {
  std::vector<DynsecClient> clients = {client("n1", {"agent-n1"}, {"agents"}),
                                       client("n2", {"agent-n2"}, {"agents"})};
  std::map<std::string, Json> roles = {{"agent-n1", agentRoleAcls("n1", {"hall"})},
                                       {"agent-n2", agentRoleAcls("n2", {})}};
  IdentityPlan plan;
  plan.local_nodes["n1"] = {"hall"};
  plan.local_nodes["n2"] = {"hall", "yard"};
  IdentityReport report;
  auto commands = identityCommands(clients, roles, {}, plan, &report);
  auto lines = summary(commands);
  CHECK(has(lines, "modifyRole agent-n1"));
  CHECK_FALSE(has(lines, "modifyRole agent-n2"));
  CHECK(has(lines, "createRole group-hall"));
  CHECK(has(lines, "createGroup"));
  CHECK(has(lines, "addGroupClient n1"));
  CHECK(has(lines, "addGroupClient n2"));
  CHECK(has(lines, "createRole group-yard"));
  CHECK(report.groups_created == 2);
  for (const auto& c : commands) {
    if (c["command"] == "modifyRole") CHECK(sameAcls(c["acls"], agentRoleAcls("n1", {})));
    if (c["command"] == "createRole") {
      CHECK(sameAcls(c["acls"], groupReadAcls(c["rolename"].get<std::string>().substr(6))));
    }
  }
}

TEST_CASE("orphan roles go, a node on a line loses its site identity, system is untouched") {
  std::vector<DynsecClient> clients = {
      client("admin", {"admin"}, {}), client("moved", {"agent-moved"}, {"agents"}),
      client("odd", {"custom"}, {}), client("ops", {}, {"operators"}),  // lost its role membership
  };
  std::map<std::string, Json> roles = {{"admin", Json::array({Json{{"acltype", "x"}}})},
                                       {"custom", Json::array()},
                                       {"agent-moved", agentRoleAcls("moved", {})},
                                       {"agent-gone", agentRoleAcls("gone", {})},
                                       {"operator-ops", operatorRoleAcls("ops")}};
  IdentityPlan plan;
  plan.remote_nodes.insert("moved");
  IdentityReport report;
  auto lines = summary(identityCommands(clients, roles, {}, plan, &report));
  CHECK(has(lines, "deleteClient moved"));
  CHECK(has(lines, "deleteRole agent-moved"));
  CHECK(has(lines, "deleteRole agent-gone"));
  CHECK(has(lines, "addClientRole operator-ops ops"));
  for (const auto& l : lines) {
    CHECK(l.find("admin") == std::string::npos);
    CHECK(l.find("custom") == std::string::npos);
  }
  CHECK(report.identities_removed == 1);
  CHECK(report.orphan_roles_removed == 1);
  CHECK(report.memberships_added == 1);
}

TEST_CASE("a node the registry does not know keeps its identity without group rights") {
  std::vector<DynsecClient> clients = {client("new", {"agent-new"}, {"agents"})};
  IdentityReport report;
  auto commands = identityCommands(clients, {{"agent-new", agentRoleAcls("new", {"g"})}}, {},
                                   IdentityPlan{}, &report);
  REQUIRE(summary(commands) == std::vector<std::string>{"modifyRole agent-new"});
  CHECK(sameAcls(commands[0]["acls"], agentRoleAcls("new", {})));
}

TEST_CASE("every kind of account is recognised from its roles and groups") {
  auto kind = [](const std::string& name, std::set<std::string> roles,
                 std::set<std::string> groups) {
    BrokerUser u;
    u.found = true;
    u.roles = std::move(roles);
    u.groups = std::move(groups);
    return accountKindOf(name, u);
  };
  CHECK(kind("anchor", {}, {}) == AccountKind::kSystem);
  CHECK(kind("root", {"admin"}, {}) == AccountKind::kSystem);
  CHECK(kind("bridge-l1", {}, {}) == AccountKind::kBridge);
  CHECK(kind("ops", {"operator-ops"}, {}) == AccountKind::kOperator);
  CHECK(kind("v", {}, {"viewers"}) == AccountKind::kViewer);
  CHECK(kind("n1", {"agent-n1"}, {}) == AccountKind::kNode);
  CHECK(kind("n1", {}, {"agents"}) == AccountKind::kNode);
  CHECK(kind("odd", {"custom"}, {}) == AccountKind::kUnknown);
  CHECK(accountKindOf("free", BrokerUser{}) == AccountKind::kNone);
  CHECK(checkNodeName("free", AccountKind::kNone).isOk());
  CHECK(checkNodeName("n1", AccountKind::kNode).isOk());
  CHECK(checkNodeName("bridge-x", AccountKind::kNone).code() == Code::kAlreadyExists);
  CHECK(checkNodeName("ops", AccountKind::kOperator).message().find("kind operator") !=
        std::string::npos);
}

TEST_CASE("a registered node's role without its client yet is not an orphan") {
  // node.add creates the role, then the client: a reconciliation that read the clients before
  // the client existed sees the role alone.
  IdentityPlan plan;
  plan.local_nodes["fresh"] = {};
  IdentityReport report;
  auto lines = summary(identityCommands(
      {}, {{"agent-fresh", agentRoleAcls("fresh", {})}, {"agent-gone", agentRoleAcls("gone", {})}},
      {}, plan, &report));
  CHECK_FALSE(has(lines, "deleteRole agent-fresh"));
  CHECK(has(lines, "deleteRole agent-gone"));
  CHECK(report.orphan_roles_removed == 1);
}
