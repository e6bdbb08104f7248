// group.* operations (group_ops.h, DESIGN.md section 4): nested groups whose membership
// reaches node documents (every group a node belongs to, directly or through ancestors) and
// the broker ACLs of the nodes concerned. Cycles are refused naming the path. Runs on the
// anchor's strand.
#include "anchor/group_ops.h"

#include <fmt/format.h>

#include "anchor/group_view.h"
#include "pharos/api.h"
#include "pharos/log.h"

namespace pharos::anchor {

namespace {

Json setJson(const std::set<std::string>& s) {
  Json out = Json::array();
  for (const auto& v : s) out.push_back(v);
  return out;
}

std::string joinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) out += (out.empty() ? "" : " > ") + p;
  return out;
}

Status groupNotFound(const std::string& field, const std::string& name) {
  return Status::notFound(field + ": no group named '" + name + "'").withPath(field);
}

}  // namespace

NodeGroups snapshotGroups(const Registry& reg, const std::set<std::string>& nodes) {
  NodeGroups out;
  for (const auto& n : nodes) {
    const NodeRecord* node = reg.findNode(n);
    if (!node || node->registration == Registration::kPending) continue;
    out[n] = reg.relations().effectiveGroups(n);
  }
  return out;
}

void updateGroupRights(const OpContext& ctx, NodeWatch& watch, const NodeGroups& before) {
  const Registry& reg = ctx.reg;
  for (const auto& [n, old_groups] : before) {
    const NodeRecord* node = reg.findNode(n);
    std::set<std::string> now;
    if (node && node->registration != Registration::kPending)
      now = reg.relations().effectiveGroups(n);
    std::set<std::string> added, removed;
    for (const auto& g : now) {
      if (!old_groups.count(g)) added.insert(g);
    }
    for (const auto& g : old_groups) {
      if (!now.count(g)) removed.insert(g);
    }
    if (added.empty() && removed.empty()) continue;
    if (watch.onLine(n)) {
      watch.syncLineRights(n);  // its identity lives on a line broker
    } else {
      ctx.admin.updateNodeGroups(n, added, removed);
    }
  }
}

Result<Json> GroupOps::create(const std::string& user, const Json& body) {
  auto req = decodeGroupCreate(body);
  if (!req) return req.status();
  if (ctx_.reg.findGroup(req->name)) {
    return Status::alreadyExists("name: group '" + req->name + "' exists").withPath("name");
  }
  if (!req->parent.empty() && !ctx_.reg.findGroup(req->parent)) {
    return groupNotFound("parent", req->parent);
  }
  Txn txn(ctx_.reg);
  GroupRecord g;
  g.name = req->name;
  g.created = ctx_.clock.nowMs();
  txn.putGroup(std::move(g));
  if (!req->parent.empty()) txn.group(req->parent)->groups.insert(req->name);
  txn.docs().touch(docKey(DocKind::kGroup, req->name));
  ctx_.audit(txn.extra(), user, "group.create", "", "", req->name);
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn));
  Json out{{"name", req->name}, {"parents", Json::array()}};
  if (!req->parent.empty()) out["parents"].push_back(req->parent);
  return out;
}

Result<Json> GroupOps::deleteGroup(const std::string& user, const Json& body) {
  auto req = decodeGroupDelete(body);
  if (!req) return req.status();
  const std::string& name = req->name;
  if (!ctx_.reg.findGroup(name)) return groupNotFound("name", name);
  std::string doc = docKey(DocKind::kGroup, name);
  std::set<std::string> apps = ctx_.reg.relations().appsOn(doc);
  if (!apps.empty() && !req->force) {
    std::string list;
    for (const auto& a : apps) list += (list.empty() ? "" : ", ") + a;
    return Status::conflict(
        fmt::format("group '{}' holds apps ({}); remove them first or pass force", name, list));
  }
  std::set<std::string> members = ctx_.reg.relations().effectiveMembers(name);
  auto before = snapshotGroups(ctx_.reg, members);
  Txn txn(ctx_.reg);
  txn.docs().touchMembers(name);  // their groups lists lose this group (and its ancestors)
  for (const auto& parent : ctx_.reg.relations().parentsOf(name))
    txn.group(parent)->groups.erase(name);
  for (const auto& app : apps) {
    PHAROS_RETURN_IF_ERROR(ctx_.dropApp(txn, app));
    ctx_.rollouts.mark(app);
  }
  txn.eraseRegistriesOf(doc);
  if (auto t = ctx_.reg.tombs().find(doc); t != ctx_.reg.tombs().end()) {
    std::vector<std::string> names;
    for (const auto& [a, spec] : t->second) names.push_back(a);
    for (const auto& a : names) txn.eraseTomb(doc, a);
  }
  txn.eraseGroup(name);
  txn.docs().touch(doc);
  ctx_.audit(txn.extra(), user, "group.delete", "", "", name);
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn));
  updateGroupRights(ctx_, watch_, before);
  ctx_.rollouts.schedule();
  return Json{{"name", name}, {"deleted", true}, {"apps_dropped", setJson(apps)}};
}

Result<Json> GroupOps::list(const Json& body) {
  auto req = decodeGroupList(body);
  if (!req) return req.status();
  Json groups = Json::array();
  std::string next;
  const auto& all = ctx_.reg.groups();
  for (auto it = req->cursor.empty() ? all.begin() : all.upper_bound(req->cursor); it != all.end();
       ++it) {
    if (static_cast<int>(groups.size()) == req->limit) {
      next = groups.back()["name"].get<std::string>();
      break;
    }
    const GroupRecord& g = it->second;
    groups.push_back(
        Json{{"name", g.name},
             {"parents", setJson(ctx_.reg.relations().parentsOf(g.name))},
             {"groups", setJson(g.groups)},
             {"node_count", g.nodes.size()},
             {"apps", setJson(ctx_.reg.relations().appsOn(docKey(DocKind::kGroup, g.name)))}});
  }
  Json out{{"groups", std::move(groups)}};
  if (!next.empty()) out["next"] = next;
  return out;
}

Result<Json> GroupOps::get(const Json& body) {
  auto req = decodeGroupGet(body);
  if (!req) return req.status();
  if (!ctx_.reg.findGroup(req->name)) return groupNotFound("name", req->name);
  return encode(describeGroup(ctx_.reg, req->name, req->depth));
}

Result<Json> GroupOps::members(const std::string& user, const Json& body, bool add) {
  auto req = add ? decodeGroupAdd(body) : decodeGroupRemove(body);
  if (!req) return req.status();
  const GroupRecord* group = ctx_.reg.findGroup(req->group);
  if (!group) return groupNotFound("group", req->group);
  for (size_t i = 0; i < req->nodes.size(); ++i) {
    if (!ctx_.reg.findNode(req->nodes[i])) {
      std::string field = fmt::format("nodes[{}]", i);
      return Status::notFound(field + ": no node named '" + req->nodes[i] + "'").withPath(field);
    }
  }
  for (size_t i = 0; i < req->groups.size(); ++i) {
    const std::string& child = req->groups[i];
    std::string field = fmt::format("groups[{}]", i);
    if (!ctx_.reg.findGroup(child)) return groupNotFound(field, child);
    if (add) {
      // Adding `child` under `group` closes a cycle when `group` is `child` or lies below it.
      std::vector<std::string> path = ctx_.reg.relations().pathDown(child, req->group);
      if (!path.empty()) {
        path.push_back(child);
        return Status::conflict(fmt::format("{}: adding group '{}' to '{}' makes a cycle: {}",
                                            field, child, req->group, joinPath(path)))
            .withPath(field);
      }
    }
  }
  // Nodes whose effective groups may change.
  std::set<std::string> affected(req->nodes.begin(), req->nodes.end());
  for (const auto& child : req->groups) {
    for (const auto& n : ctx_.reg.relations().effectiveMembers(child)) affected.insert(n);
  }
  auto before = snapshotGroups(ctx_.reg, affected);
  for (const auto& n : affected) ctx_.rollouts.markAppsOfNode(n);  // apps that reached them before
  Txn txn(ctx_.reg);
  GroupRecord* g = txn.group(req->group);
  Json changed_nodes = Json::array();
  Json changed_groups = Json::array();
  for (const auto& n : req->nodes) {
    bool changed = add ? g->nodes.insert(n).second : g->nodes.erase(n) > 0;
    if (changed) changed_nodes.push_back(n);
  }
  for (const auto& c : req->groups) {
    bool changed = add ? g->groups.insert(c).second : g->groups.erase(c) > 0;
    if (changed) changed_groups.push_back(c);
  }
  for (const auto& n : affected) txn.docs().touchNode(n);
  ctx_.audit(txn.extra(), user, add ? "group.add" : "group.remove", "", "",
             fmt::format("{}: {} nodes, {} groups", req->group, changed_nodes.size(),
                         changed_groups.size()));
  // Read rights first: an agent told of a new group subscribes to its document at once.
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn, true, [&] {
    updateGroupRights(ctx_, watch_, before);
    ctx_.admin.flushNodeGroups();
  }));
  for (const auto& n : affected) ctx_.rollouts.markAppsOfNode(n);
  for (const auto& a : ctx_.reg.relations().appsOn(docKey(DocKind::kGroup, req->group))) {
    ctx_.rollouts.mark(a);
  }
  ctx_.rollouts.schedule();
  return Json{
      {"group", req->group},
      {add ? "added" : "removed", Json{{"nodes", changed_nodes}, {"groups", changed_groups}}}};
}

}  // namespace pharos::anchor
