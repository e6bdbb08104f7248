// node.* operations (DESIGN.md section 4). Runs on the anchor's strand.
#include "anchor/anchor.h"
#include "anchor/health.h"
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

}  // namespace

Json Anchor::nodeSummary(const NodeRecord& node) const {
  Json out{{"name", node.name},
           {"registration", registrationName(node.registration)},
           {"labels", labelsJson(node.labels)},
           {"groups", setJson(reg_.directGroupsOf(node.name))},
           {"hostname", infoString(node.info, "hostname")},
           {"agent_version", infoString(node.info, "agent_version")}};
  addKeyIds(node, out);  // node_keys.cpp
  auto h = reg_.health().find(node.name);
  if (h != reg_.health().end()) {
    out["health"] = h->second.health.state;
    out["since"] = h->second.health.since;
    out["last_seen"] = h->second.last_seen;
  } else {
    out["health"] = node.registration == Registration::kPending ? "Pending" : "NotReady";
    out["since"] = node.created;
    out["last_seen"] = 0;
  }
  return out;
}

Result<Json> Anchor::nodeList(const Json& body) {
  auto req = decodeNodeList(body);
  if (!req) return req.status();
  std::optional<std::set<std::string>> members;
  if (!req->group.empty()) {
    if (!reg_.findGroup(req->group)) {
      return Status::notFound("group: no group named '" + req->group + "'").withPath("group");
    }
    members = reg_.effectiveMembers(req->group);
  }
  Json nodes = Json::array();
  std::string next;
  const auto& all = reg_.nodes();
  for (auto it = req->cursor.empty() ? all.begin() : all.upper_bound(req->cursor); it != all.end();
       ++it) {
    const NodeRecord& node = it->second;
    if (members && !members->count(node.name)) continue;
    if (!req->label.empty() && !labelMatches(node, req->label)) continue;
    Json summary = nodeSummary(node);
    if (!req->health.empty() && summary["health"] != req->health) continue;
    if (static_cast<int>(nodes.size()) == req->limit) {
      next = nodes.back()["name"].get<std::string>();
      break;
    }
    nodes.push_back(std::move(summary));
  }
  Json out{{"nodes", std::move(nodes)}};
  if (!next.empty()) out["next"] = next;
  return out;
}

Result<Json> Anchor::nodeGet(const Json& body) {
  auto req = decodeNodeGet(body);
  if (!req) return req.status();
  const NodeRecord* node = reg_.findNode(req->name);
  if (!node) return Status::notFound("name: no node named '" + req->name + "'").withPath("name");
  Json out = nodeSummary(*node);
  out["info"] = node->info.is_object() ? node->info : Json::object();
  out["created"] = node->created;
  out["enrolled"] = node->enrolled;
  out["added_by"] = node->added_by;
  out["effective_groups"] = setJson(reg_.effectiveGroups(node->name));
  auto h = reg_.health().find(node->name);
  Json history = Json::array();
  if (h != reg_.health().end()) {
    out["health_detail"] = encode(h->second.health);
    out["health_detail"].erase("v");
    for (const auto& t : h->second.history) {
      history.push_back(
          Json{{"state", t.state}, {"ts", t.ts}, {"reason", t.reason}, {"session", t.session}});
    }
  }
  out["history"] = std::move(history);
  if (auto m = node_metrics_.find(node->name); m != node_metrics_.end()) out["metrics"] = m->second;
  // Apps that reach this node, with their status here.
  Json apps = Json::array();
  std::vector<std::string> sources{docKey(DocKind::kNode, node->name)};
  for (const auto& g : reg_.effectiveGroups(node->name))
    sources.push_back(docKey(DocKind::kGroup, g));
  auto state = node_states_.find(node->name);
  for (const auto& source : sources) {
    for (const auto& name : reg_.appsOn(source)) {
      const AppRecord& app = *reg_.findApp(name);
      Json a{{"name", name},
             {"target", toJson(app.target)},
             {"revision", app.revision},
             {"state", app.state}};
      if (state != node_states_.end()) {
        for (const auto& s : state->second.apps) {
          if (s.name != name) continue;
          a["reported"] =
              Json{{"revision", s.revision}, {"phase", s.phase}, {"message", s.message}};
        }
      }
      apps.push_back(std::move(a));
    }
  }
  out["apps"] = std::move(apps);
  return out;
}

void Anchor::nodeAdd(const std::string& user, const Json& body, Reply reply) {
  auto req = decodeNodeAdd(body);
  if (!req) return reply(req.status());
  std::string name = req->name;
  // Reserved names are refused here already; the broker admin also refuses a name another
  // kind of account holds (one namespace, docs/security.md).
  if (Status s = checkNodeName(name, AccountKind::kNone); !s.isOk()) return reply(s);
  if (reg_.findNode(name)) {
    return reply(Status::alreadyExists("name: node '" + name + "' exists").withPath("name"));
  }
  if (adding_.count(name) || removing_.count(name)) {
    return reply(Status::conflict("name: node '" + name + "' is being added or removed"));
  }
  adding_.insert(name);
  std::weak_ptr<bool> alive = alive_;
  auto labels = req->labels;
  admin_.createNode(name, {},
                    [this, alive, name, user, labels, reply](Result<AgentCredentials> creds) {
                      if (alive.expired()) return;
                      adding_.erase(name);
                      if (!creds) return reply(creds.status());
                      Txn txn(reg_);
                      if (NodeRecord* existing = txn.node(name)) {
                        existing->enrolled = true;  // registered meanwhile with an older identity
                      } else {
                        NodeRecord record;
                        record.name = name;
                        record.registration = Registration::kAccepted;  // an operator enrolled it
                        record.labels = labels;
                        record.created = clock_.nowMs();
                        record.enrolled = true;
                        record.added_by = user;
                        txn.putNode(std::move(record));
                      }
                      txn.touchNode(name);
                      ops_.audit(txn.extra(), user, "node.add", name, "", "");
                      Status s = publisher_.commit(txn);
                      if (!s.isOk()) return reply(s);
                      quarantine_.erase(name);
                      applyHealth(name, nullptr);
                      reply(Json{{"name", name},
                                 {"username", creds->username},
                                 {"password", creds->password},
                                 {"broker", creds->broker_url},
                                 {"config", creds->config_text}});
                    });
}

void Anchor::nodeRemove(const std::string& user, const Json& body, Reply reply) {
  auto req = decodeNodeRemove(body);
  if (!req) return reply(req.status());
  const std::string& name = req->name;
  const NodeRecord* node = reg_.findNode(name);
  if (!node) return reply(Status::notFound("name: no node named '" + name + "'").withPath("name"));
  if (removing_.count(name)) return reply(Status::conflict("node '" + name + "' is being removed"));
  if (req->purge && node->registration != Registration::kPending) {
    if (node->registration == Registration::kRemoving) {
      return reply(Json{{"name", name}, {"state", "removing"}});
    }
    auto before = snapshotGroups({name});
    Txn txn(reg_);
    txn.node(name)->registration = Registration::kRemoving;
    Json waiting = Json::array();
    for (const auto& app : reg_.appsOn(docKey(DocKind::kNode, name))) {
      AppRecord* a = txn.app(app);
      if (a->state != "removed") {
        a->state = "removed";
        a->updated = clock_.nowMs();
      }
      waiting.push_back(app);
    }
    for (const auto& g : reg_.directGroupsOf(name)) txn.group(g)->nodes.erase(name);
    txn.touchNode(name);
    ops_.audit(txn.extra(), user, "node.remove", name, "", "purge started");
    Status s = publisher_.commit(txn);
    if (!s.isOk()) return reply(s);
    updateAcls(before);
    rollouts_.markAppsOfNode(name);
    spdlog::info("node {}: purge started by {}", name, user);
    scheduleSweep();
    return reply(Json{{"name", name}, {"state", "removing"}, {"apps", std::move(waiting)}});
  }
  finishNodeRemoval(name, user, std::move(reply));
}

void Anchor::finishNodeRemoval(const std::string& name, const std::string& user, Reply reply) {
  removing_.insert(name);
  // An agent of a line broker keeps its identity there (made with tools/dynsec.py on the
  // line); it loses every group read right.
  if (std::string line = lineOfNode(name); !line.empty()) {
    admin_.syncLineNodeGroups(line, name, {});
    node_lines_.erase(name);
  }
  std::weak_ptr<bool> alive = alive_;
  admin_.deleteNode(name, [this, alive, name, user, reply](Status status) {
    if (alive.expired()) return;
    removing_.erase(name);
    if (!status.isOk()) {
      spdlog::warn("node {}: deleting its broker identity: {}", name, status.message());
      if (reply) reply(status);
      return;
    }
    if (!reg_.findNode(name)) {
      if (reply) reply(Json{{"name", name}, {"removed", true}});
      return;
    }
    rollouts_.markAppsOfNode(name);
    Txn txn(reg_);
    for (const auto& g : reg_.directGroupsOf(name)) txn.group(g)->nodes.erase(name);
    Json dropped = Json::array();
    for (const auto& app : reg_.appsOn(docKey(DocKind::kNode, name))) {
      Status s = ops_.dropApp(txn, app);
      if (!s.isOk()) {
        if (reply) reply(s);
        return;
      }
      dropped.push_back(app);
      rollouts_.mark(app);
    }
    txn.eraseRegistriesOf(docKey(DocKind::kNode, name));
    if (auto t = reg_.tombs().find(docKey(DocKind::kNode, name)); t != reg_.tombs().end()) {
      std::vector<std::string> apps;
      for (const auto& [a, spec] : t->second) apps.push_back(a);
      for (const auto& a : apps) txn.eraseTomb(docKey(DocKind::kNode, name), a);
    }
    txn.eraseNode(name);
    txn.extra().del(keys::health(name));
    if (Status forgot = metrics_.forget(name, txn.extra()); !forgot.isOk()) {
      spdlog::warn("store: listing the metrics history of {}: {}", name, forgot.message());
    }
    txn.touchNode(name);
    ops_.audit(txn.extra(), user, "node.remove", name, "", "removed");
    Status s = publisher_.commit(txn);
    if (!s.isOk()) {
      if (reply) reply(s);
      return;
    }
    // Clear the node's retained topics (desired/secrets were cleared by the commit).
    for (NodeTopic t : {NodeTopic::kStatus, NodeTopic::kInfo, NodeTopic::kState, NodeTopic::kHealth,
                        NodeTopic::kDesired, NodeTopic::kSecrets}) {
      publisher_.retained(topics::node(name, t), "");
    }
    reg_.health().erase(name);
    node_states_.erase(name);
    node_metrics_.erase(name);
    last_seen_persisted_.erase(name);
    pending_registrations_.erase(name);
    event_tokens_.erase(name);
    dirty_health_.erase(name);
    quarantine_[name] = clock_.nowMs() + config_.removed_quarantine.count();
    rollouts_.schedule();
    spdlog::info("node {} removed by {}", name, user);
    if (reply) reply(Json{{"name", name}, {"removed", true}, {"apps_dropped", std::move(dropped)}});
  });
}

Result<Json> Anchor::nodeApprove(const std::string& user, const Json& body) {
  auto req = decodeNodeApprove(body);
  if (!req) return req.status();
  const NodeRecord* node = reg_.findNode(req->name);
  if (!node) return Status::notFound("name: no node named '" + req->name + "'").withPath("name");
  if (node->registration == Registration::kRemoving) {
    return Status::conflict("node '" + req->name + "' is being removed");
  }
  if (node->registration == Registration::kAccepted) return nodeSummary(*node);
  Txn txn(reg_);
  txn.node(req->name)->registration = Registration::kAccepted;
  txn.touchNode(req->name);
  ops_.audit(txn.extra(), user, "node.approve", req->name, "", "");
  // Read rights first: the node's first document lists its groups.
  PHAROS_RETURN_IF_ERROR(publisher_.commit(txn, true, [&] {
    auto groups = reg_.effectiveGroups(req->name);
    if (onLine(req->name)) {
      syncLineAcls(req->name);
    } else if (!groups.empty()) {
      admin_.updateNodeGroups(req->name, groups, {});
      admin_.flushNodeGroups();
    }
  }));
  applyHealth(req->name, nullptr);
  rollouts_.markAppsOfNode(req->name);
  return nodeSummary(*reg_.findNode(req->name));
}

Result<Json> Anchor::nodeLabel(const std::string& user, const Json& body) {
  auto req = decodeNodeLabel(body);
  if (!req) return req.status();
  if (!reg_.findNode(req->name)) {
    return Status::notFound("name: no node named '" + req->name + "'").withPath("name");
  }
  Txn txn(reg_);
  NodeRecord* node = txn.node(req->name);
  for (const auto& key : req->remove) node->labels.erase(key);
  for (const auto& [k, v] : req->set) node->labels[k] = v;
  txn.touchNode(req->name);
  ops_.audit(txn.extra(), user, "node.label", req->name, "", "");
  PHAROS_RETURN_IF_ERROR(publisher_.commit(txn));
  return Json{{"name", req->name}, {"labels", labelsJson(reg_.findNode(req->name)->labels)}};
}

}  // namespace pharos::anchor
