// node.* operations (node_ops.h, DESIGN.md section 4). Runs on the anchor's strand.
#include "anchor/node_ops.h"

#include "anchor/group_ops.h"
#include "anchor/metrics_history.h"
#include "anchor/node_keys.h"
#include "pharos/api.h"
#include "pharos/log.h"
#include "pharos/topics.h"

namespace pharos::anchor {

using topics::NodeTopic;

namespace {

Json labelsJson(const std::map<std::string, std::string>& labels) {
  Json out = Json::object();
  for (const auto& [k, v] : labels) out[k] = v;
  return out;
}

Json setJson(const std::set<std::string>& s) {
  Json out = Json::array();
  for (const auto& v : s) out.push_back(v);
  return out;
}

std::string infoString(const Json& info, const char* key) {
  if (info.is_object() && info.contains(key) && info[key].is_string()) {
    return info[key].get<std::string>();
  }
  return {};
}

// "key" (present) or "key=value" against operator labels and the agent's config labels.
bool labelMatches(const NodeRecord& node, const std::string& filter) {
  auto eq = filter.find('=');
  std::string key = filter.substr(0, eq);
  auto check = [&](const std::string* value) {
    if (!value) return false;
    return eq == std::string::npos || *value == filter.substr(eq + 1);
  };
  if (auto it = node.labels.find(key); it != node.labels.end() && check(&it->second)) return true;
  if (node.info.is_object() && node.info.contains("labels") && node.info["labels"].is_object()) {
    const Json& labels = node.info["labels"];
    if (labels.contains(key) && labels[key].is_string()) {
      std::string v = labels[key].get<std::string>();
      return check(&v);
    }
  }
  return false;
}

// The node's health verdict; before its first, Pending or NotReady by its registration.
Readiness readinessOf(const Registry& reg, const NodeRecord& node) {
  auto h = reg.health().find(node.name);
  if (h != reg.health().end()) return h->second.health.state;
  return node.registration == Registration::kPending ? Readiness::kPending : Readiness::kNotReady;
}

}  // namespace

Json NodeOps::summary(const NodeRecord& node) const {
  Json out{{"name", node.name},
           {"registration", registrationName(node.registration)},
           {"labels", labelsJson(node.labels)},
           {"groups", setJson(ctx_.reg.relations().directGroupsOf(node.name))},
           {"hostname", infoString(node.info, "hostname")},
           {"agent_version", infoString(node.info, "agent_version")}};
  addKeyIds(node, out);
  out["health"] = toWire(readinessOf(ctx_.reg, node));
  auto h = ctx_.reg.health().find(node.name);
  if (h != ctx_.reg.health().end()) {
    out["since"] = h->second.health.since;
    out["last_seen"] = h->second.last_seen;
  } else {
    out["since"] = node.created;
    out["last_seen"] = 0;
  }
  return out;
}

Result<Json> NodeOps::list(const Json& body) {
  auto req = decodeNodeList(body);
  if (!req) return req.status();
  std::optional<std::set<std::string>> members;
  if (!req->group.empty()) {
    if (!ctx_.reg.findGroup(req->group)) {
      return Status::notFound("group: no group named '" + req->group + "'").withPath("group");
    }
    members = ctx_.reg.relations().effectiveMembers(req->group);
  }
  Json nodes = Json::array();
  std::string next;
  const auto& all = ctx_.reg.nodes();
  for (auto it = req->cursor.empty() ? all.begin() : all.upper_bound(req->cursor); it != all.end();
       ++it) {
    const NodeRecord& node = it->second;
    if (members && !members->count(node.name)) continue;
    if (!req->label.empty() && !labelMatches(node, req->label)) continue;
    if (req->health && readinessOf(ctx_.reg, node) != *req->health) continue;
    Json row = summary(node);
    if (static_cast<int>(nodes.size()) == req->limit) {
      next = nodes.back()["name"].get<std::string>();
      break;
    }
    nodes.push_back(std::move(row));
  }
  Json out{{"nodes", std::move(nodes)}};
  if (!next.empty()) out["next"] = next;
  return out;
}

Result<Json> NodeOps::get(const Json& body) {
  auto req = decodeNodeGet(body);
  if (!req) return req.status();
  const NodeRecord* node = ctx_.reg.findNode(req->name);
  if (!node) return Status::notFound("name: no node named '" + req->name + "'").withPath("name");
  Json out = summary(*node);
  out["info"] = node->info.is_object() ? node->info : Json::object();
  out["created"] = node->created;
  out["enrolled"] = node->enrolled;
  out["added_by"] = node->added_by;
  out["effective_groups"] = setJson(ctx_.reg.relations().effectiveGroups(node->name));
  auto h = ctx_.reg.health().find(node->name);
  Json history = Json::array();
  if (h != ctx_.reg.health().end()) {
    out["health_detail"] = encode(h->second.health);
    out["health_detail"].erase("v");
    for (const auto& t : h->second.history) {
      history.push_back(Json{
          {"state", toWire(t.state)}, {"ts", t.ts}, {"reason", t.reason}, {"session", t.session}});
    }
  }
  out["history"] = std::move(history);
  if (const Json* metrics = watch_.metrics(node->name)) out["metrics"] = *metrics;
  // Apps that reach this node, with their status here.
  Json apps = Json::array();
  std::vector<std::string> sources{docKey(DocKind::kNode, node->name)};
  for (const auto& g : ctx_.reg.relations().effectiveGroups(node->name))
    sources.push_back(docKey(DocKind::kGroup, g));
  const NodeState* state = watch_.reported(node->name);
  for (const auto& source : sources) {
    for (const auto& name : ctx_.reg.relations().appsOn(source)) {
      const AppRecord& app = *ctx_.reg.findApp(name);
      Json a{{"name", name},
             {"target", toJson(app.target)},
             {"revision", app.revision},
             {"state", toWire(app.state)}};
      if (state) {
        for (const auto& s : state->apps) {
          if (s.name != name) continue;
          a["reported"] =
              Json{{"revision", s.revision}, {"phase", toWire(s.phase)}, {"message", s.message}};
        }
      }
      apps.push_back(std::move(a));
    }
  }
  out["apps"] = std::move(apps);
  return out;
}

void NodeOps::add(const std::string& user, const Json& body, Reply reply) {
  auto req = decodeNodeAdd(body);
  if (!req) return reply(req.status());
  std::string name = req->name;
  // Reserved names are refused here already; the broker admin also refuses a name another
  // kind of account holds (one namespace, docs/security.md).
  if (Status s = checkNodeName(name, AccountKind::kNone); !s.isOk()) return reply(s);
  if (ctx_.reg.findNode(name)) {
    return reply(Status::alreadyExists("name: node '" + name + "' exists").withPath("name"));
  }
  if (adding_.count(name) || removing_.count(name)) {
    return reply(Status::conflict("name: node '" + name + "' is being added or removed"));
  }
  adding_.insert(name);
  std::weak_ptr<bool> alive = alive_;
  auto labels = req->labels;
  ctx_.admin.createNode(
      name, {}, [this, alive, name, user, labels, reply](Result<AgentCredentials> creds) {
        if (alive.expired()) return;
        adding_.erase(name);
        if (!creds) return reply(creds.status());
        Txn txn(ctx_.reg);
        if (NodeRecord* existing = txn.node(name)) {
          existing->enrolled = true;  // registered meanwhile with an older identity
        } else {
          NodeRecord record;
          record.name = name;
          record.registration = Registration::kAccepted;  // an operator enrolled it
          record.labels = labels;
          record.created = ctx_.clock.nowMs();
          record.enrolled = true;
          record.added_by = user;
          txn.putNode(std::move(record));
        }
        txn.docs().touchNode(name);
        ctx_.audit(txn.extra(), user, "node.add", name, "", "");
        Status s = ctx_.publisher.commit(txn);
        if (!s.isOk()) return reply(s);
        watch_.enrolled(name);
        reply(Json{{"name", name},
                   {"username", creds->username},
                   {"password", creds->password},
                   {"broker", creds->broker_url},
                   {"config", creds->config_text}});
      });
}

void NodeOps::remove(const std::string& user, const Json& body, Reply reply) {
  auto req = decodeNodeRemove(body);
  if (!req) return reply(req.status());
  const std::string& name = req->name;
  const NodeRecord* node = ctx_.reg.findNode(name);
  if (!node) return reply(Status::notFound("name: no node named '" + name + "'").withPath("name"));
  if (removing_.count(name)) return reply(Status::conflict("node '" + name + "' is being removed"));
  if (req->purge && node->registration != Registration::kPending) {
    if (node->registration == Registration::kRemoving) {
      return reply(Json{{"name", name}, {"state", "removing"}});
    }
    auto before = snapshotGroups(ctx_.reg, {name});
    Txn txn(ctx_.reg);
    txn.node(name)->registration = Registration::kRemoving;
    Json waiting = Json::array();
    for (const auto& app : ctx_.reg.relations().appsOn(docKey(DocKind::kNode, name))) {
      AppRecord* a = txn.app(app);
      if (a->state != DesiredState::kRemoved) {
        a->state = DesiredState::kRemoved;
        a->updated = ctx_.clock.nowMs();
      }
      waiting.push_back(app);
    }
    for (const auto& g : ctx_.reg.relations().directGroupsOf(name)) txn.group(g)->nodes.erase(name);
    txn.docs().touchNode(name);
    ctx_.audit(txn.extra(), user, "node.remove", name, "", "purge started");
    Status s = ctx_.publisher.commit(txn);
    if (!s.isOk()) return reply(s);
    updateGroupRights(ctx_, watch_, before);
    ctx_.rollouts.markAppsOfNode(name);
    spdlog::info("node {}: purge started by {}", name, user);  // the removal sweep ends it
    return reply(Json{{"name", name}, {"state", "removing"}, {"apps", std::move(waiting)}});
  }
  finishRemoval(name, user, std::move(reply));
}

void NodeOps::finishRemoval(const std::string& name, const std::string& user, Reply reply) {
  removing_.insert(name);
  watch_.releaseLine(name);
  std::weak_ptr<bool> alive = alive_;
  ctx_.admin.deleteNode(name, [this, alive, name, user, reply](Status status) {
    if (alive.expired()) return;
    removing_.erase(name);
    if (!status.isOk()) {
      spdlog::warn("node {}: deleting its broker identity: {}", name, status.message());
      if (reply) reply(status);
      return;
    }
    if (!ctx_.reg.findNode(name)) {
      if (reply) reply(Json{{"name", name}, {"removed", true}});
      return;
    }
    ctx_.rollouts.markAppsOfNode(name);
    Txn txn(ctx_.reg);
    for (const auto& g : ctx_.reg.relations().directGroupsOf(name)) txn.group(g)->nodes.erase(name);
    Json dropped = Json::array();
    for (const auto& app : ctx_.reg.relations().appsOn(docKey(DocKind::kNode, name))) {
      Status s = ctx_.dropApp(txn, app);
      if (!s.isOk()) {
        if (reply) reply(s);
        return;
      }
      dropped.push_back(app);
      ctx_.rollouts.mark(app);
    }
    txn.eraseRegistriesOf(docKey(DocKind::kNode, name));
    if (auto t = ctx_.reg.tombs().find(docKey(DocKind::kNode, name)); t != ctx_.reg.tombs().end()) {
      std::vector<std::string> apps;
      for (const auto& [a, spec] : t->second) apps.push_back(a);
      for (const auto& a : apps) txn.eraseTomb(docKey(DocKind::kNode, name), a);
    }
    txn.eraseNode(name);
    txn.extra().del(keys::health(name));
    if (ctx_.metrics) {
      if (Status forgot = ctx_.metrics->forget(name, txn.extra()); !forgot.isOk()) {
        spdlog::warn("store: listing the metrics history of {}: {}", name, forgot.message());
      }
    }
    txn.docs().touchNode(name);
    ctx_.audit(txn.extra(), user, "node.remove", name, "", "removed");
    Status s = ctx_.publisher.commit(txn);
    if (!s.isOk()) {
      if (reply) reply(s);
      return;
    }
    // Clear the node's retained topics (desired/secrets were cleared by the commit).
    for (NodeTopic t : {NodeTopic::kStatus, NodeTopic::kInfo, NodeTopic::kState, NodeTopic::kHealth,
                        NodeTopic::kDesired, NodeTopic::kSecrets}) {
      ctx_.publisher.retained(topics::node(name, t), "");
    }
    watch_.removed(name);
    ctx_.rollouts.schedule();
    spdlog::info("node {} removed by {}", name, user);
    if (reply) reply(Json{{"name", name}, {"removed", true}, {"apps_dropped", std::move(dropped)}});
  });
}

Result<Json> NodeOps::approve(const std::string& user, const Json& body) {
  auto req = decodeNodeApprove(body);
  if (!req) return req.status();
  const NodeRecord* node = ctx_.reg.findNode(req->name);
  if (!node) return Status::notFound("name: no node named '" + req->name + "'").withPath("name");
  if (node->registration == Registration::kRemoving) {
    return Status::conflict("node '" + req->name + "' is being removed");
  }
  if (node->registration == Registration::kAccepted) return summary(*node);
  Txn txn(ctx_.reg);
  txn.node(req->name)->registration = Registration::kAccepted;
  txn.docs().touchNode(req->name);
  ctx_.audit(txn.extra(), user, "node.approve", req->name, "", "");
  // Read rights first: the node's first document lists its groups.
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn, true, [&] {
    auto groups = ctx_.reg.relations().effectiveGroups(req->name);
    if (watch_.onLine(req->name)) {
      watch_.syncLineRights(req->name);
    } else if (!groups.empty()) {
      ctx_.admin.updateNodeGroups(req->name, groups, {});
      ctx_.admin.flushNodeGroups();
    }
  }));
  watch_.refreshHealth(req->name);
  ctx_.rollouts.markAppsOfNode(req->name);
  return summary(*ctx_.reg.findNode(req->name));
}

Result<Json> NodeOps::label(const std::string& user, const Json& body) {
  auto req = decodeNodeLabel(body);
  if (!req) return req.status();
  if (!ctx_.reg.findNode(req->name)) {
    return Status::notFound("name: no node named '" + req->name + "'").withPath("name");
  }
  Txn txn(ctx_.reg);
  NodeRecord* node = txn.node(req->name);
  for (const auto& key : req->remove) node->labels.erase(key);
  for (const auto& [k, v] : req->set) node->labels[k] = v;
  txn.docs().touchNode(req->name);
  ctx_.audit(txn.extra(), user, "node.label", req->name, "", "");
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn));
  return Json{{"name", req->name}, {"labels", labelsJson(ctx_.reg.findNode(req->name)->labels)}};
}

Result<Json> NodeOps::metricsQuery(const Json& body) {
  auto req = decodeMetricsQuery(body);
  if (!req) return req.status();
  if (!ctx_.reg.findNode(req->node)) {
    return Status::notFound("node: no node named '" + req->node + "'").withPath("node");
  }
  if (!ctx_.metrics) return Status::unavailable("metrics: no history kept");
  return ctx_.metrics->query(*req, ctx_.clock.nowMs());
}

}  // namespace pharos::anchor
