// Txn: one atomic change of the Registry (registry.h). Records originals on first touch,
// writes records + generations in one WriteBatch, restores memory when the write fails.
// Runs on the anchor's strand.
#include <fmt/format.h>

#include "anchor/registry.h"

namespace pharos::anchor {
namespace {

Json secretsJson(const std::map<std::string, std::string>& m) {
  Json out = Json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

template <typename Map, typename Orig>
void saveOriginal(const Map& live, Orig& orig, const std::string& key) {
  if (orig.count(key)) return;
  auto it = live.find(key);
  if (it == live.end()) {
    orig.emplace(key, std::nullopt);
  } else {
    orig.emplace(key, it->second);
  }
}

template <typename Map, typename Orig>
void restore(Map& live, const Orig& orig) {
  for (const auto& [key, value] : orig) {
    if (value) {
      live[key] = *value;
    } else {
      live.erase(key);
    }
  }
}

}  // namespace

Txn::Txn(Registry& registry) : reg_(registry) {}

Txn::~Txn() {
  if (!done_) rollback();
}

NodeRecord* Txn::node(const std::string& name) {
  auto it = reg_.nodes_.find(name);
  if (it == reg_.nodes_.end()) return nullptr;
  saveOriginal(reg_.nodes_, orig_nodes_, name);
  return &it->second;
}

GroupRecord* Txn::group(const std::string& name) {
  auto it = reg_.groups_.find(name);
  if (it == reg_.groups_.end()) return nullptr;
  saveOriginal(reg_.groups_, orig_groups_, name);
  reg_.index_.invalidate();  // the caller may change memberships
  return &it->second;
}

AppRecord* Txn::app(const std::string& name) {
  auto it = reg_.apps_.find(name);
  if (it == reg_.apps_.end()) return nullptr;
  saveOriginal(reg_.apps_, orig_apps_, name);
  reg_.index_.invalidate();  // the caller may change the target
  return &it->second;
}

void Txn::putNode(NodeRecord record) {
  saveOriginal(reg_.nodes_, orig_nodes_, record.name);
  std::string name = record.name;
  reg_.nodes_[name] = std::move(record);
}

void Txn::eraseNode(const std::string& name) {
  saveOriginal(reg_.nodes_, orig_nodes_, name);
  reg_.nodes_.erase(name);
}

void Txn::putGroup(GroupRecord record) {
  saveOriginal(reg_.groups_, orig_groups_, record.name);
  std::string name = record.name;
  reg_.groups_[name] = std::move(record);
  reg_.index_.invalidate();
}

void Txn::eraseGroup(const std::string& name) {
  saveOriginal(reg_.groups_, orig_groups_, name);
  reg_.groups_.erase(name);
  reg_.index_.invalidate();
}

void Txn::putApp(AppRecord record) {
  saveOriginal(reg_.apps_, orig_apps_, record.name);
  std::string name = record.name;
  reg_.apps_[name] = std::move(record);
  reg_.index_.invalidate();
}

void Txn::eraseApp(const std::string& name) {
  saveOriginal(reg_.apps_, orig_apps_, name);
  reg_.apps_.erase(name);
  reg_.index_.invalidate();
}

void Txn::setSecrets(const std::string& app, std::map<std::string, std::string> secrets) {
  saveOriginal(reg_.secrets_, orig_secrets_, app);
  if (secrets.empty()) {
    reg_.secrets_.erase(app);
  } else {
    reg_.secrets_[app] = std::move(secrets);
  }
}

void Txn::eraseSecrets(const std::string& app) {
  saveOriginal(reg_.secrets_, orig_secrets_, app);
  reg_.secrets_.erase(app);
}

void Txn::putRegistry(RegistryRecord record) {
  std::string key = targetDocKey(record.target);
  saveOriginal(reg_.registries_, orig_registries_, key);
  std::string host = record.host;
  reg_.registries_[key][host] = std::move(record);
}

void Txn::eraseRegistry(const Target& target, const std::string& host) {
  std::string key = targetDocKey(target);
  auto it = reg_.registries_.find(key);
  if (it == reg_.registries_.end() || !it->second.count(host)) return;
  saveOriginal(reg_.registries_, orig_registries_, key);
  it->second.erase(host);
  if (it->second.empty()) reg_.registries_.erase(it);
}

void Txn::eraseRegistriesOf(const std::string& target_doc_key) {
  if (!reg_.registries_.count(target_doc_key)) return;
  saveOriginal(reg_.registries_, orig_registries_, target_doc_key);
  reg_.registries_.erase(target_doc_key);
}

void Txn::putTomb(const std::string& doc_key, AppSpec spec) {
  saveOriginal(reg_.tombs_, orig_tombs_, doc_key);
  spec.state = DesiredState::kRemoved;
  std::string name = spec.name;
  reg_.tombs_[doc_key][name] = std::move(spec);
}

void Txn::eraseTomb(const std::string& doc_key, const std::string& app) {
  auto it = reg_.tombs_.find(doc_key);
  if (it == reg_.tombs_.end() || !it->second.count(app)) return;
  saveOriginal(reg_.tombs_, orig_tombs_, doc_key);
  it->second.erase(app);
  if (it->second.empty()) reg_.tombs_.erase(it);
}

Status Txn::commit(Store& store, bool sync, bool keep_payloads) {
  WriteBatch batch;
  docs_.render(batch, keep_payloads, [&](const std::string& app) {
    auto orig = orig_secrets_.find(app);
    return orig != orig_secrets_.end() && orig->second && !orig->second->empty();
  });
  // Records.
  for (const auto& [name, orig] : orig_nodes_) {
    auto it = reg_.nodes_.find(name);
    if (it == reg_.nodes_.end()) {
      if (orig) batch.del(keys::node(name));
    } else if (!orig || !(*orig == it->second)) {
      batch.put(keys::node(name), dumpJson(toJson(it->second)));
    }
  }
  for (const auto& [name, orig] : orig_groups_) {
    auto it = reg_.groups_.find(name);
    static const GroupRecord kEmpty;
    const GroupRecord& before = orig ? *orig : kEmpty;
    const GroupRecord& after = it == reg_.groups_.end() ? kEmpty : it->second;
    if (it == reg_.groups_.end()) {
      if (orig) batch.del(keys::group(name));
    } else if (!orig || orig->created != it->second.created) {
      batch.put(keys::group(name), dumpJson(Json{{"name", name}, {"created", it->second.created}}));
    }
    for (const auto& n : before.nodes) {
      if (!after.nodes.count(n)) batch.del(keys::memberNode(name, n));
    }
    for (const auto& n : after.nodes) {
      if (!before.nodes.count(n)) batch.put(keys::memberNode(name, n), "");
    }
    for (const auto& c : before.groups) {
      if (!after.groups.count(c)) batch.del(keys::memberGroup(name, c));
    }
    for (const auto& c : after.groups) {
      if (!before.groups.count(c)) batch.put(keys::memberGroup(name, c), "");
    }
  }
  for (const auto& [name, orig] : orig_apps_) {
    auto it = reg_.apps_.find(name);
    if (it == reg_.apps_.end()) {
      if (orig) batch.del(keys::app(name));
    } else if (!orig || !(*orig == it->second)) {
      batch.put(keys::app(name), dumpJson(toJson(it->second)));
    }
  }
  for (const auto& [name, orig] : orig_secrets_) {
    auto it = reg_.secrets_.find(name);
    if (it == reg_.secrets_.end()) {
      if (orig) batch.del(keys::secret(name));
    } else if (!orig || *orig != it->second) {
      batch.put(keys::secret(name), reg_.at_rest_.sealRecord(dumpJson(secretsJson(it->second))));
    }
  }
  for (const auto& [key, orig] : orig_registries_) {
    auto it = reg_.registries_.find(key);
    if (orig) {
      for (const auto& [host, rec] : *orig) {
        if (it == reg_.registries_.end() || !it->second.count(host)) {
          batch.del(keys::registry(rec.target, host));
        }
      }
    }
    if (it == reg_.registries_.end()) continue;
    for (const auto& [host, rec] : it->second) {
      batch.put(keys::registry(rec.target, host), reg_.at_rest_.sealRecord(dumpJson(toJson(rec))));
    }
  }
  for (const auto& [key, orig] : orig_tombs_) {
    auto it = reg_.tombs_.find(key);
    if (orig) {
      for (const auto& [app, spec] : *orig) {
        if (it == reg_.tombs_.end() || !it->second.count(app)) batch.del(keys::tomb(key, app));
      }
    }
    if (it == reg_.tombs_.end()) continue;
    for (const auto& [app, spec] : it->second) {
      batch.put(keys::tomb(key, app), dumpJson(tombToJson(spec)));
    }
  }
  batch.append(extra_);
  Status status = store.write(batch, sync);
  if (!status.isOk()) {
    rollback();
    return status;
  }
  done_ = true;
  return Status::ok();
}

void Txn::rollback() {
  if (done_) return;
  restore(reg_.nodes_, orig_nodes_);
  restore(reg_.groups_, orig_groups_);
  restore(reg_.apps_, orig_apps_);
  restore(reg_.secrets_, orig_secrets_);
  restore(reg_.registries_, orig_registries_);
  restore(reg_.tombs_, orig_tombs_);
  docs_.restore();
  // The indexes derive from groups and apps only: an unchanged rollback (the once-a-second
  // sweep) must not make the next lookup rebuild them for 10,000 nodes.
  if (!orig_groups_.empty() || !orig_apps_.empty()) reg_.index_.invalidate();
  done_ = true;
}

}  // namespace pharos::anchor
