// Group read rights on the site broker (docs/security.md "Group rights"): each Pharos group <g>
// has one dynamic-security role group-<g> (the read ACLs of groups/<g>/desired), held by the
// broker group group-<g> and by its shards group-<g>~<n>. Together they hold the registered,
// approved nodes of <g> (its effective members, nested groups included), each node in exactly
// one of them. A node's own role agent-<node> holds no group ACL, so joining or leaving a
// group changes one membership, not the node's role.
//
// Why: Mosquitto 2.0.11 rewrites its whole dynamic-security file after every command (50-180
// ms at 1,000 identities on the 2-core test machine, seconds at 10,000) and disconnects
// ("kicks") every client whose rights a command changed:
// - a change of a few members is one addGroupClient/removeGroupClient each, which kicks that
//   node only;
// - more than kBulkMembershipChanges nodes joining at once go into a broker group of their own
//   (the base group if it is empty, else a new shard): createGroup, then one modifyGroup with
//   their list, which kicks just them (a modifyGroup kicks every member of its group, so the
//   list of a group that already has members is never rewritten to add some);
// - more than kBulkMembershipChanges nodes leaving one broker group: one modifyGroup with the
//   ones that stay, or one deleteGroup of a shard that ends empty.
// How fast such bulk changes go out is GroupMemberships' concern (group_memberships.h).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "anchor/broker_acls.h"
#include "pharos/json.h"

namespace pharos::anchor {

inline constexpr size_t kBulkMembershipChanges = 32;

// "group-<group>": the base broker group and the role that give <group>'s read rights.
std::string groupRightsName(const std::string& group);
// "group-<group>~<n>": shard n (n >= 1) of the group's broker groups ('~' is never in a name).
std::string groupShardName(const std::string& group, int n);
// The Pharos group whose rights a broker group or role of that name gives ("group-g" and
// "group-g~3" both give g's), nullopt for other names.
std::optional<std::string> rightsGroupOf(std::string_view name);
bool isGroupRightsName(std::string_view name);

// createRole group-<g> (its read ACLs) and createGroup group-<g> holding it. Either may answer
// "already exists", which is harmless.
void appendGroupRightsCreate(std::vector<Json>& out, const std::string& group);

// The commands that take one group's broker groups from `have` to `have` + `add` - `remove`
// (as in the header comment), `have` updated to match. `kicked` gains every node the broker
// disconnects for them. Returns the number of members changed.
size_t appendPlacementChange(std::vector<Json>& out, const std::string& group, Placement& have,
                             const std::set<std::string>& add, const std::set<std::string>& remove,
                             std::set<std::string>* kicked = nullptr);

// The reconciliation of the site broker's group rights (identityCommands, kBrokerGroups):
// every group some node of `plan` belongs to gets its role, its base group and exactly its
// members (those with a client on this broker), wherever they are held; shards that end empty
// and broker groups and roles of no such group go. `placed` (if given) receives each group's
// placement once the commands are done.
void appendGroupRightsReconcile(std::vector<Json>& out, const std::vector<DynsecClient>& clients,
                                const std::map<std::string, Json>& roles,
                                const DynsecGroups& groups, const IdentityPlan& plan,
                                IdentityReport* report, Placements* placed = nullptr);

// Each group's members as the registry sees them: group -> nodes of `plan.local_nodes`.
std::map<std::string, std::set<std::string>> membersByGroup(const IdentityPlan& plan);

}  // namespace pharos::anchor
