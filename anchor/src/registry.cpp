// Registry: loading from the store, membership relations and document rendering
// (registry.h). Runs on the anchor's strand.
#include "anchor/registry.h"

#include <fmt/format.h>

#include <deque>
#include <random>

namespace pharos::anchor {
namespace {

constexpr size_t kMaxRecordBytes = size_t{64} << 20;

Result<Json> parseRecord(std::string_view key, std::string_view value) {
  auto json = parseJson(value, kMaxRecordBytes, 128);
  if (!json)
    return Status::internal(fmt::format("store record {}: {}", key, json.status().message()));
  return json;
}

Status recordError(std::string_view key, const Status& status) {
  return Status::internal(fmt::format("store record {}: {}", key, status.message()));
}

std::string_view after(std::string_view key, std::string_view prefix) {
  return key.substr(prefix.size());
}

}  // namespace

Json tombToJson(const AppSpec& spec) {
  Json vars = Json::object();
  for (const auto& [k, v] : spec.variables) vars[k] = v;
  return Json{{"name", spec.name},
              {"revision", spec.revision},
              {"compose", spec.compose},
              {"state", toWire(spec.state)},
              {"variables", vars},
              {"restart", spec.restart},
              {"volumes", toWire(spec.volumes)}};
}

Result<AppSpec> tombFromJson(const Json& j) {
  JsonReader r(j, "tomb");
  AppSpec spec;
  spec.name = r.str("name");
  spec.revision = r.i64("revision");
  spec.compose = r.str("compose", "");
  spec.state = readState(r, "state",
                         {DesiredState::kRunning, DesiredState::kStopped, DesiredState::kRemoved},
                         DesiredState::kRemoved);
  for (auto& [k, v] : r.stringMap("variables")) spec.variables[k] = v;
  spec.restart = r.i64("restart", 0);
  spec.volumes =
      readState(r, "volumes", {VolumePolicy::kKeep, VolumePolicy::kDelete}, VolumePolicy::kKeep);
  if (!r.ok()) return r.status();
  return spec;
}

std::string newEpoch() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  return fmt::format("{:016x}", gen());
}

Status Registry::load(Store& store) {
  auto epoch = store.get(keys::kEpoch);
  if (!epoch) return epoch.status();
  if (epoch->has_value()) {
    epoch_ = **epoch;
  } else {
    epoch_ = newEpoch();
    WriteBatch batch;
    batch.put(std::string(keys::kEpoch), epoch_);
    batch.put(std::string(keys::kSchema), "1");
    PHAROS_RETURN_IF_ERROR(store.write(batch, true));
  }
  Status error;
  auto fail = [&](std::string_view key, const Status& s) {
    error = recordError(key, s);
    return false;
  };

  PHAROS_RETURN_IF_ERROR(store.scan(keys::kNodePrefix, [&](std::string_view k, std::string_view v) {
    auto j = parseRecord(k, v);
    if (!j) return fail(k, j.status());
    auto r = nodeRecordFromJson(*j);
    if (!r) return fail(k, r.status());
    nodes_[r->name] = std::move(*r);
    return true;
  }));
  PHAROS_RETURN_IF_ERROR(error);
  PHAROS_RETURN_IF_ERROR(
      store.scan(keys::kHealthPrefix, [&](std::string_view k, std::string_view v) {
        auto j = parseRecord(k, v);
        if (!j) return fail(k, j.status());
        auto r = healthRecordFromJson(*j);
        if (!r) return fail(k, r.status());
        health_[std::string(after(k, keys::kHealthPrefix))] = std::move(*r);
        return true;
      }));
  PHAROS_RETURN_IF_ERROR(error);
  PHAROS_RETURN_IF_ERROR(
      store.scan(keys::kGroupPrefix, [&](std::string_view k, std::string_view v) {
        auto j = parseRecord(k, v);
        if (!j) return fail(k, j.status());
        GroupRecord g;
        g.name = std::string(after(k, keys::kGroupPrefix));
        if (j->is_object() && j->contains("created") && (*j)["created"].is_number_integer()) {
          g.created = (*j)["created"].get<int64_t>();
        }
        groups_[g.name] = std::move(g);
        return true;
      }));
  PHAROS_RETURN_IF_ERROR(error);
  PHAROS_RETURN_IF_ERROR(store.scan(keys::kMemberPrefix, [&](std::string_view k, std::string_view) {
    std::string_view rest = after(k, keys::kMemberPrefix);  // <g>/node/<n> | <g>/group/<c>
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return fail(k, Status::internal("bad member key"));
    std::string g(rest.substr(0, slash));
    std::string_view tail = rest.substr(slash + 1);
    auto it = groups_.find(g);
    if (it == groups_.end()) return true;  // orphan (cannot happen: deleted in one batch)
    if (tail.substr(0, 5) == "node/") {
      it->second.nodes.insert(std::string(tail.substr(5)));
    } else if (tail.substr(0, 6) == "group/") {
      it->second.groups.insert(std::string(tail.substr(6)));
    } else {
      return fail(k, Status::internal("bad member key"));
    }
    return true;
  }));
  PHAROS_RETURN_IF_ERROR(error);
  PHAROS_RETURN_IF_ERROR(store.scan(keys::kAppPrefix, [&](std::string_view k, std::string_view v) {
    auto j = parseRecord(k, v);
    if (!j) return fail(k, j.status());
    auto r = appRecordFromJson(*j);
    if (!r) return fail(k, r.status());
    apps_[r->name] = std::move(*r);
    return true;
  }));
  PHAROS_RETURN_IF_ERROR(error);
  WriteBatch legacy_batch;  // records stored in the clear, rewritten sealed
  auto openSealed = [&](std::string_view k, std::string_view v) -> Result<Json> {
    bool legacy = false;
    auto j = at_rest_.openRecord(k, v, &legacy);
    if (j && legacy) legacy_batch.put(std::string(k), at_rest_.sealRecord(dumpJson(*j)));
    return j;
  };
  PHAROS_RETURN_IF_ERROR(
      store.scan(keys::kSecretPrefix, [&](std::string_view k, std::string_view v) {
        auto j = openSealed(k, v);
        if (!j) return fail(k, j.status());
        std::map<std::string, std::string> m;
        if (j->is_object()) {
          for (auto& [name, value] : j->items()) {
            if (value.is_string()) m[name] = value.get<std::string>();
          }
        }
        secrets_[std::string(after(k, keys::kSecretPrefix))] = std::move(m);
        return true;
      }));
  PHAROS_RETURN_IF_ERROR(error);
  PHAROS_RETURN_IF_ERROR(
      store.scan(keys::kRegistryPrefix, [&](std::string_view k, std::string_view v) {
        auto j = openSealed(k, v);
        if (!j) return fail(k, j.status());
        auto r = registryRecordFromJson(*j);
        if (!r) return fail(k, r.status());
        registries_[targetDocKey(r->target)][r->host] = std::move(*r);
        return true;
      }));
  PHAROS_RETURN_IF_ERROR(error);
  if (!legacy_batch.empty()) PHAROS_RETURN_IF_ERROR(store.write(legacy_batch, true));
  PHAROS_RETURN_IF_ERROR(store.scan(keys::kTombPrefix, [&](std::string_view k, std::string_view v) {
    std::string_view rest = after(k, keys::kTombPrefix);  // <kind>/<name>/<app>
    auto last = rest.rfind('/');
    if (last == std::string_view::npos) return fail(k, Status::internal("bad tomb key"));
    auto j = parseRecord(k, v);
    if (!j) return fail(k, j.status());
    auto spec = tombFromJson(*j);
    if (!spec) return fail(k, spec.status());
    tombs_[std::string(rest.substr(0, last))][spec->name] = std::move(*spec);
    return true;
  }));
  PHAROS_RETURN_IF_ERROR(error);
  PHAROS_RETURN_IF_ERROR(store.scan(keys::kGenPrefix, [&](std::string_view k, std::string_view v) {
    auto j = parseRecord(k, v);
    if (!j) return fail(k, j.status());
    auto r = docStateFromJson(*j);
    if (!r) return fail(k, r.status());
    docs_[std::string(after(k, keys::kGenPrefix))] = std::move(*r);
    return true;
  }));
  PHAROS_RETURN_IF_ERROR(error);
  indexes_dirty_ = true;
  return Status::ok();
}

const NodeRecord* Registry::findNode(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}
const GroupRecord* Registry::findGroup(const std::string& name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : &it->second;
}
const AppRecord* Registry::findApp(const std::string& name) const {
  auto it = apps_.find(name);
  return it == apps_.end() ? nullptr : &it->second;
}
const std::map<std::string, std::string>* Registry::findSecrets(const std::string& app) const {
  auto it = secrets_.find(app);
  return it == secrets_.end() ? nullptr : &it->second;
}

void Registry::ensureIndexes() const {
  if (!indexes_dirty_) return;
  node_groups_.clear();
  group_parents_.clear();
  apps_by_doc_.clear();
  for (const auto& [name, g] : groups_) {
    for (const auto& n : g.nodes) node_groups_[n].insert(name);
    for (const auto& c : g.groups) group_parents_[c].insert(name);
  }
  for (const auto& [name, app] : apps_) apps_by_doc_[targetDocKey(app.target)].insert(name);
  indexes_dirty_ = false;
}

std::set<std::string> Registry::directGroupsOf(const std::string& node) const {
  ensureIndexes();
  auto it = node_groups_.find(node);
  return it == node_groups_.end() ? std::set<std::string>() : it->second;
}

std::set<std::string> Registry::parentsOf(const std::string& group) const {
  ensureIndexes();
  auto it = group_parents_.find(group);
  return it == group_parents_.end() ? std::set<std::string>() : it->second;
}

std::set<std::string> Registry::effectiveGroups(const std::string& node) const {
  ensureIndexes();
  std::set<std::string> out;
  std::deque<std::string> queue;
  auto it = node_groups_.find(node);
  if (it == node_groups_.end()) return out;
  for (const auto& g : it->second) queue.push_back(g);
  while (!queue.empty()) {
    std::string g = std::move(queue.front());
    queue.pop_front();
    if (!out.insert(g).second) continue;
    auto p = group_parents_.find(g);
    if (p == group_parents_.end()) continue;
    for (const auto& parent : p->second) queue.push_back(parent);
  }
  return out;
}

std::set<std::string> Registry::effectiveMembers(const std::string& group) const {
  std::set<std::string> out;
  std::set<std::string> seen;
  std::deque<std::string> queue{group};
  while (!queue.empty()) {
    std::string g = std::move(queue.front());
    queue.pop_front();
    if (!seen.insert(g).second) continue;
    auto it = groups_.find(g);
    if (it == groups_.end()) continue;
    out.insert(it->second.nodes.begin(), it->second.nodes.end());
    for (const auto& c : it->second.groups) queue.push_back(c);
  }
  return out;
}

std::set<std::string> Registry::targetNodes(const Target& target) const {
  std::set<std::string> candidates;
  if (target.kind == Target::Kind::kNode) {
    candidates.insert(target.name);
  } else {
    candidates = effectiveMembers(target.name);
  }
  std::set<std::string> out;
  for (const auto& n : candidates) {
    auto it = nodes_.find(n);
    if (it != nodes_.end() && it->second.registration != Registration::kPending) out.insert(n);
  }
  return out;
}

std::vector<std::string> Registry::pathDown(const std::string& from, const std::string& to) const {
  // Depth-first search with parent links to rebuild the path.
  std::map<std::string, std::string> parent;
  std::deque<std::string> stack{from};
  std::set<std::string> seen{from};
  while (!stack.empty()) {
    std::string g = stack.back();
    stack.pop_back();
    if (g == to) {
      std::vector<std::string> path{g};
      while (path.back() != from) path.push_back(parent[path.back()]);
      return {path.rbegin(), path.rend()};
    }
    auto it = groups_.find(g);
    if (it == groups_.end()) continue;
    for (const auto& c : it->second.groups) {
      if (seen.insert(c).second) {
        parent[c] = g;
        stack.push_back(c);
      }
    }
  }
  return {};
}

std::set<std::string> Registry::appsOn(const std::string& doc_key) const {
  ensureIndexes();
  auto it = apps_by_doc_.find(doc_key);
  return it == apps_by_doc_.end() ? std::set<std::string>() : it->second;
}

std::optional<Json> Registry::renderDoc(const std::string& doc_key, int64_t generation) const {
  DocKind kind;
  std::string name;
  if (!parseDocKey(doc_key, kind, name)) return std::nullopt;
  if (kind == DocKind::kGroup) {
    if (!groups_.count(name)) return std::nullopt;
    DesiredDoc doc;
    doc.epoch = epoch_;
    doc.generation = generation;
    std::map<std::string, AppSpec> apps;
    for (const auto& a : appsOn(doc_key)) apps[a] = toAppSpec(apps_.at(a));
    if (auto t = tombs_.find(doc_key); t != tombs_.end()) {
      for (const auto& [a, spec] : t->second) apps.emplace(a, spec);
    }
    for (auto& [a, spec] : apps) doc.apps.push_back(std::move(spec));
    return encodeGroupDesired(doc);
  }
  auto node = nodes_.find(name);
  if (node == nodes_.end() || node->second.registration == Registration::kPending) {
    return std::nullopt;
  }
  std::set<std::string> groups = effectiveGroups(name);
  if (kind == DocKind::kNode) {
    DesiredDoc doc;
    doc.epoch = epoch_;
    doc.generation = generation;
    doc.labels = node->second.labels;
    doc.groups.assign(groups.begin(), groups.end());
    std::map<std::string, AppSpec> apps;
    for (const auto& a : appsOn(doc_key)) apps[a] = toAppSpec(apps_.at(a));
    if (auto t = tombs_.find(doc_key); t != tombs_.end()) {
      for (const auto& [a, spec] : t->second) apps.emplace(a, spec);
    }
    for (auto& [a, spec] : apps) doc.apps.push_back(std::move(spec));
    return encode(doc);
  }
  auto secrets = renderSecrets(name, generation);
  if (!secrets) return std::nullopt;
  return encode(*secrets);
}

std::optional<SecretsDoc> Registry::renderSecrets(const std::string& name,
                                                  int64_t generation) const {
  auto node = nodes_.find(name);
  if (node == nodes_.end() || node->second.registration == Registration::kPending) {
    return std::nullopt;
  }
  std::set<std::string> groups = effectiveGroups(name);
  // Secrets: of every live app that reaches the node (node apps first, then groups in
  // name order; the first definition of a name wins), and the registry credentials of the
  // node and its groups (node credentials win over group ones for the same host).
  SecretsDoc doc;
  doc.node = name;
  doc.epoch = epoch_;
  doc.generation = generation;
  std::vector<std::string> sources{docKey(DocKind::kNode, name)};
  for (const auto& g : groups) sources.push_back(docKey(DocKind::kGroup, g));
  std::map<std::string, RegistryAuth> registries;
  for (const auto& source : sources) {
    for (const auto& a : appsOn(source)) {
      if (apps_.at(a).state == DesiredState::kRemoved) continue;
      auto s = secrets_.find(a);
      if (s == secrets_.end()) continue;
      for (const auto& [k, v] : s->second) doc.variables.emplace(k, v);
    }
    auto r = registries_.find(source);
    if (r == registries_.end()) continue;
    for (const auto& [host, rec] : r->second) {
      registries.emplace(host, RegistryAuth{rec.host, rec.username, rec.password});
    }
  }
  for (auto& [host, auth] : registries) doc.registries.push_back(std::move(auth));
  return doc;
}

std::string Registry::contentOf(const std::string& doc_key, Json& doc) const {
  // The epoch is taken out for the dump and put back (the object's keys are sorted, so the
  // document dumps as before): no copy of the document.
  auto epoch = doc.find("epoch");
  Json held = epoch != doc.end() ? std::move(*epoch) : Json();
  if (epoch != doc.end()) doc.erase(epoch);
  std::string content;
  DocKind kind;
  std::string name;
  if (parseDocKey(doc_key, kind, name) && kind == DocKind::kSecrets) {
    // The stored hash of a secrets document reveals nothing without the at-rest key, and a
    // new public key is a new document (sealed again, next generation).
    const std::string& key = nodes_.at(name).public_key;
    content = key.empty() ? std::string("withheld") : at_rest_.digest(dumpJson(doc)) + "/" + key;
  } else {
    content = dumpJson(doc);
  }
  if (!held.is_null()) doc["epoch"] = std::move(held);
  return content;
}

std::vector<std::string> Registry::allDocKeys() const {
  std::vector<std::string> out;
  out.reserve(nodes_.size() * 2 + groups_.size());
  for (const auto& [name, n] : nodes_) {
    if (n.registration == Registration::kPending) continue;
    out.push_back(docKey(DocKind::kNode, name));
    out.push_back(docKey(DocKind::kSecrets, name));
  }
  for (const auto& [name, g] : groups_) out.push_back(docKey(DocKind::kGroup, name));
  return out;
}

Status Registry::reconcileDocs(Store& store, std::vector<std::string>* changed,
                               std::vector<std::string>* removed) {
  Txn txn(*this);
  for (const auto& key : allDocKeys()) txn.docs().touch(key);
  for (const auto& [key, state] : docs_) txn.docs().touch(key);
  PHAROS_RETURN_IF_ERROR(txn.commit(store, true));
  if (changed) *changed = txn.docs().changedDocs();
  if (removed) *removed = txn.docs().removedDocs();
  return Status::ok();
}

}  // namespace pharos::anchor
