// The documents an agent holds (desired_docs.h): node, group and secrets documents offered
// from the broker or the state file. Runs on the agent's strand.
#include "agent/desired_docs.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/desired_set.h"

namespace pharos::agent {

void DesiredDocs::offerNode(const std::string& payload, bool from_state_file) {
  if (payload.empty()) {
    if (!node_doc_) return;
    spdlog::warn("node document deleted: no longer changing anything");
    node_doc_.reset();
    node_raw_.reset();
    bad_documents_.erase("node");
    effects_.emit("node_document_deleted", "",
                  "node removed from management; containers left as they are", "");
    effects_.persist();
    effects_.recompute();
    return;
  }
  auto doc = decodeDesired(payload);
  if (!doc.isOk()) {
    bad_documents_["node"] = doc.status().message();
    effects_.emit("bad_document", "", "node document refused", doc.status().message());
    effects_.report();
    return;
  }
  if (!shouldApply(node_doc_, *doc)) {
    spdlog::debug("node document generation {} ignored (holding {})", doc->generation,
                  node_doc_->generation);
    return;
  }
  bad_documents_.erase("node");
  node_doc_ = std::move(doc).value();
  node_raw_ = payload;
  // Group documents of groups no longer listed are dropped.
  for (auto it = group_docs_.begin(); it != group_docs_.end();) {
    bool listed = false;
    for (const std::string& g : node_doc_->groups) listed = listed || g == it->first;
    if (listed) {
      ++it;
    } else {
      group_raw_.erase(it->first);
      it = group_docs_.erase(it);
    }
  }
  if (!from_state_file) effects_.persist();
  for (const std::string& g : node_doc_->groups) {
    if (!group_docs_.count(g)) awaiting_groups_.emplace(g, clock_.steadyNow());
  }
  for (auto it = awaiting_groups_.begin(); it != awaiting_groups_.end();) {
    bool listed = std::find(node_doc_->groups.begin(), node_doc_->groups.end(), it->first) !=
                  node_doc_->groups.end();
    it = listed ? std::next(it) : awaiting_groups_.erase(it);
  }
  effects_.groups_listed();
  effects_.recompute();
}

void DesiredDocs::offerGroup(const std::string& group, const std::string& payload,
                             bool from_state_file) {
  std::string source = "group:" + group;
  // Whatever it holds (apps, nothing, or something refused), the group has answered.
  if (awaiting_groups_.erase(group) > 0 && awaiting_groups_.empty()) effects_.recompute();
  if (payload.empty()) {
    auto held = group_docs_.find(group);
    if (held == group_docs_.end()) return;
    // Named after each app it held, so that an app's events say why it went.
    std::vector<std::string> apps;
    for (const AppSpec& a : held->second.apps) apps.push_back(a.name);
    if (apps.empty()) apps.push_back("");
    group_docs_.erase(held);
    group_raw_.erase(group);
    bad_documents_.erase(source);
    for (const std::string& a : apps) {
      effects_.emit("group_document_deleted", a,
                    "group " + group + " deleted: its apps are dropped", "");
    }
    effects_.persist();
    effects_.recompute();
    return;
  }
  auto doc = decodeGroupDesired(payload);
  if (!doc.isOk()) {
    bad_documents_[source] = doc.status().message();
    effects_.emit("bad_document", "", "group " + group + " document refused",
                  doc.status().message());
    effects_.report();
    return;
  }
  auto held = group_docs_.find(group);
  std::optional<DesiredDoc> current;
  if (held != group_docs_.end()) current = held->second;
  if (!shouldApply(current, *doc)) return;
  bad_documents_.erase(source);
  group_docs_[group] = std::move(doc).value();
  group_raw_[group] = payload;
  if (!from_state_file) effects_.persist();
  effects_.recompute();
}

void DesiredDocs::offerSecrets(const std::string& payload, bool from_state_file) {
  if (payload.empty()) {
    bool was_blocked = bad_documents_.erase("secrets") > 0;
    if (!secrets_) {
      if (was_blocked) effects_.recompute();
      return;
    }
    secrets_.reset();
    secrets_raw_.reset();
    effects_.persist();
    effects_.registries({});
    effects_.recompute();
    return;
  }
  auto doc = effects_.open_secrets(payload);
  if (!doc.isOk()) {
    // What is held stays in force: a document that cannot be opened never empties secrets.
    // With nothing held (a new device key the anchor has not accepted yet, a state file
    // sealed to a discarded key) the apps wait as they are rather than lose their secrets.
    bad_documents_["secrets"] = doc.status().message();
    effects_.emit("bad_document", "", "secrets document refused", doc.status().message());
    if (!secrets_) {
      spdlog::warn("secrets document refused ({}): apps left as they are until one opens",
                   doc.status().message());
      effects_.recompute();
      return;
    }
    effects_.report();
    return;
  }
  if (!shouldApply(secrets_, *doc)) return;
  bad_documents_.erase("secrets");
  secrets_ = std::move(doc).value();
  secrets_raw_ = payload;
  effects_.registries(secrets_->registries);
  if (!from_state_file) effects_.persist();
  effects_.recompute();
}

void DesiredDocs::persisted(PersistedState& state) const {
  state.node_desired = node_raw_;
  state.secrets = secrets_raw_;
  state.group_desired = group_raw_;
}

}  // namespace pharos::agent
