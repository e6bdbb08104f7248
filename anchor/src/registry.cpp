// Registry: loading from the store, record lookups and the reconciliation of every
// document (registry.h). Runs on the anchor's strand.
#include "anchor/registry.h"

#include <fmt/format.h>

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
  index_.invalidate();
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

Status Registry::reconcileDocs(Store& store, std::vector<std::string>* changed,
                               std::vector<std::string>* removed) {
  Txn txn(*this);
  for (const auto& key : renderer_.allDocKeys()) txn.docs().touch(key);
  for (const auto& [key, state] : docs_) txn.docs().touch(key);
  PHAROS_RETURN_IF_ERROR(txn.commit(store, true));
  if (changed) *changed = txn.docs().changedDocs();
  if (removed) *removed = txn.docs().removedDocs();
  return Status::ok();
}

}  // namespace pharos::anchor
