// Group read rights on the site broker (docs/security.md "Group rights"): each Pharos group <g>
// has one dynamic-security role group-<g> (the read ACLs of groups/<g>/desired) held by one
// broker group group-<g>, whose members are the registered, approved nodes of <g> (its
// effective members, nested groups included). A node's own role agent-<node> holds no group
// ACL, so joining or leaving a group changes one membership, not the node's role.
//
// Why: Mosquitto 2.0.11 rewrites its whole dynamic-security file after every command (50-180
// ms at 1,000 identities on the 2-core test machine, seconds at 10,000) and kicks every client
// whose rights changed. A change of a few members is one addGroupClient/removeGroupClient each
// (only those nodes are kicked); a change of more than kBulkMembershipChanges members of one group
// is one modifyGroup with the whole member list (one file rewrite; the broker kicks every member
// once, and each reconnects).
//
// GroupMemberships is pure (no I/O): it queues membership changes, keeps what it told the
// broker, and renders the commands. Not thread-safe; the broker admin uses it on its strand.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "anchor/broker_acls.h"
#include "pharos/json.h"

namespace pharos::anchor {

inline constexpr size_t kBulkMembershipChanges = 32;

// "group-<group>": the broker group and the role that give <group>'s read rights.
std::string groupRightsName(const std::string& group);
bool isGroupRightsName(std::string_view name);

// createRole group-<g> (its read ACLs) and createGroup group-<g> holding it. Either may answer
// "already exists", which is harmless.
void appendGroupRightsCreate(std::vector<Json>& out, const std::string& group);

// The commands that take broker group group-<g>'s members from `have` to `want`: one
// add/removeGroupClient per changed member, or one modifyGroup with the whole of `want` when
// more than kBulkMembershipChanges change. Returns the number of members changed.
size_t appendMembershipChange(std::vector<Json>& out, const std::string& group,
                              const std::set<std::string>& have, const std::set<std::string>& want);

// The reconciliation of the site broker's group rights (identityCommands, kBrokerGroups):
// every group some node of `plan` belongs to gets its role, its broker group and exactly its
// members (those with a client on this broker); broker groups and roles group-<g> of no such
// group go.
void appendGroupRightsReconcile(std::vector<Json>& out, const std::vector<DynsecClient>& clients,
                                const std::map<std::string, Json>& roles,
                                const DynsecGroups& groups, const IdentityPlan& plan,
                                IdentityReport* report);

// Each group's members as the registry sees them: group -> nodes of `plan.local_nodes`.
std::map<std::string, std::set<std::string>> membersByGroup(const IdentityPlan& plan);

class GroupMemberships {
 public:
  // From now on the broker is known to hold `members` (group -> nodes): the registry's view
  // the reconciliation brings it to. Before the first reset only per-member commands are sent.
  void reset(std::map<std::string, std::set<std::string>> members);
  // `node` joined `added` and left `removed` (queued until take()).
  void change(const std::string& node, const std::set<std::string>& added,
              const std::set<std::string>& removed);
  // `node`'s client is gone (the broker dropped its memberships with it).
  void forgetNode(const std::string& node);
  // A client created with memberships of `groups`: the commands that make sure each group
  // exists first (once per group and process), and the memberships noted.
  std::vector<Json> created(const std::string& node, const std::set<std::string>& groups);
  bool pending() const { return !pending_.empty(); }
  // The queued changes as commands (each group made first if not yet done in this process),
  // and the kept members updated.
  std::vector<Json> take();

 private:
  struct Delta {
    std::set<std::string> add;
    std::set<std::string> remove;
  };
  void ensure(std::vector<Json>& out, const std::string& group);

  bool known_ = false;
  std::map<std::string, std::set<std::string>> members_;
  std::set<std::string> made_;  // groups whose role and broker group this process created
  std::map<std::string, Delta> pending_;
};

}  // namespace pharos::anchor
