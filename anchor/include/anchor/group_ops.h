// group.* operations (DESIGN.md section 4) over an OpContext: nested groups whose membership
// reaches node documents (every group a node belongs to, directly or through ancestors) and
// the broker read rights of the nodes concerned (on the site broker through BrokerAdmin, on a
// line broker through the NodeWatch). Cycles are refused naming the path.
//
// Threading: runs on the anchor's strand.
#pragma once

#include <map>
#include <set>
#include <string>

#include "anchor/node_watch.h"
#include "anchor/op_context.h"
#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos::anchor {

// Each node's effective groups, to diff after a membership change.
using NodeGroups = std::map<std::string, std::set<std::string>>;
// The effective groups of the accepted nodes among `nodes`.
NodeGroups snapshotGroups(const Registry& reg, const std::set<std::string>& nodes);
// Grants and revokes the broker read rights of the groups each node of `before` gained or
// lost since that snapshot.
void updateGroupRights(const OpContext& ctx, NodeWatch& watch, const NodeGroups& before);

class GroupOps {
 public:
  GroupOps(const OpContext& ctx, NodeWatch& watch) : ctx_(ctx), watch_(watch) {}

  Result<Json> create(const std::string& user, const Json& body);
  Result<Json> deleteGroup(const std::string& user, const Json& body);
  Result<Json> list(const Json& body);
  Result<Json> get(const Json& body);
  // group.add (`add`) and group.remove: nodes and groups in or out of a group.
  Result<Json> members(const std::string& user, const Json& body, bool add);

 private:
  OpContext ctx_;
  NodeWatch& watch_;
};

}  // namespace pharos::anchor
