// The ACLs this release gives each kind of broker identity (broker-config/README.md "Identities
// and ACLs"), as Mosquitto dynamic-security ACL objects {acltype, topic, priority, allow}: the
// same sets as tools/dynsec.py writes offline (tests/integration/test_security_accounts.py
// compares them), and the pure reconciliation of a broker's identities with the registry
// (identityCommands). No I/O; thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pharos/json.h"

namespace pharos::anchor {

// An agent's role agent-<node>: writes only inside nodes/<node>/ (its reports and its answers
// to cmd requests), reads its own documents and commands, anchor/status, and the desired
// documents of `groups` (on a line broker; at the site `groups` is empty: the node's group
// rights are its memberships of the broker groups group-<g>, group_rights.h).
Json agentRoleAcls(const std::string& node, const std::set<std::string>& groups);
// The three read ACLs of groups/<group>/desired: what agentRoleAcls adds per group, and the
// ACLs of the site broker's role group-<group>.
Json groupReadAcls(const std::string& group);
// The same ACLs (type, topic, allow, priority), whatever their order.
bool sameAcls(const Json& a, const Json& b);
Json operatorRoleAcls(const std::string& user);
Json viewerRoleAcls(const std::string& user);
// The site-broker identity bridge-<line> of line broker <line>'s bridge.
Json bridgeRoleAcls(const std::string& line);

// What the broker holds, as listClients/listRoles (verbose) describe it.
struct DynsecClient {
  std::string username;
  std::set<std::string> roles;
  std::set<std::string> groups;
};

// A broker group, as listGroups (verbose) describes it.
struct DynsecGroup {
  std::set<std::string> roles;
  std::set<std::string> clients;
};
using DynsecGroups = std::map<std::string, DynsecGroup>;  // groupname -> group

// Where each member of one Pharos group is held on the site broker: node -> broker group
// (group-<g> or one of its shards, group_rights.h).
using Placement = std::map<std::string, std::string>;
using Placements = std::map<std::string, Placement>;  // group -> its placement

// Where a node's right to read its groups' documents lives.
enum class GroupRights {
  kBrokerGroups,  // the site: membership of the broker group group-<g> (group_rights.h)
  kAgentRole,     // a line broker: read ACLs in the node's own role agent-<node>
};

// What the registry wants of one broker's identities (the site broker's, or a line broker's).
struct IdentityPlan {
  // Where the identities are, for the log lines: "the site broker", "line broker line-a".
  std::string broker = "the site broker";
  // Registered nodes whose identity lives on this broker: node -> the groups whose documents
  // it may read (none while it awaits approval).
  std::map<std::string, std::set<std::string>> local_nodes;
  // Registered nodes that connect through another broker: no identity here.
  std::set<std::string> remote_nodes;
  GroupRights group_rights = GroupRights::kBrokerGroups;
};

struct IdentityReport {
  size_t roles_checked = 0;
  size_t roles_changed = 0;  // roles whose ACLs were corrected
  size_t acls_added = 0;
  size_t acls_removed = 0;
  size_t roles_created = 0;      // a role an identity lacked
  size_t memberships_added = 0;  // an identity that did not hold its own role
  size_t orphan_roles_removed = 0;
  size_t identities_removed = 0;     // identities of nodes that connect through another broker
  size_t groups_created = 0;         // broker groups group-<g> made (with their roles)
  size_t groups_changed = 0;         // broker groups whose members or role were corrected
  size_t groups_removed = 0;         // broker groups group-<g> of no registry group
  std::vector<std::string> changes;  // one line per identity or group changed (logged)
  bool changed() const;
};

// The dynamic-security commands that give every node, operator, viewer and bridge identity of
// `clients` exactly its release's role and ACLs (`roles`: rolename -> its ACL array; a drifted
// role gets one modifyRole), remove roles no identity holds (agent-*, operator-*, viewer-*,
// bridge-*) and the identities of `plan.remote_nodes`. With GroupRights::kBrokerGroups the
// broker groups group-<g> (`groups`) get exactly the registry's members (group_rights.h) and
// those of no registry group go. A node identity the registry does not know (made by
// tools/dynsec.py, not yet registered) keeps its identity with no group rights. The anchor and
// admin system accounts are left as they are.
std::vector<Json> identityCommands(const std::vector<DynsecClient>& clients,
                                   const std::map<std::string, Json>& roles,
                                   const DynsecGroups& groups, const IdentityPlan& plan,
                                   IdentityReport* report, Placements* placed = nullptr);

}  // namespace pharos::anchor
