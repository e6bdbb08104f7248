// Effective desired state: union, generation rule, variables (see desired_set.h).
#include "agent/desired_set.h"

#include "pharos/node_variables.h"
#include "pharos/rollout_wave.h"

namespace pharos::agent {

bool shouldApply(const std::optional<DesiredDoc>& held, const DesiredDoc& incoming) {
  if (!held) return true;
  return held->epoch != incoming.epoch || incoming.generation > held->generation;
}

bool shouldApply(const std::optional<SecretsDoc>& held, const SecretsDoc& incoming) {
  if (!held) return true;
  return held->epoch != incoming.epoch || incoming.generation > held->generation;
}

EffectiveDesired unionDesired(const std::string& node_id, const DesiredDoc& node,
                              const std::map<std::string, DesiredDoc>& groups) {
  std::map<std::string, EffectiveApp> chosen;
  std::map<std::string, Conflict> conflicts;
  auto offer = [&](const AppSpec& entry, const std::string& source) {
    std::optional<AppSpec> resolved;
    if (entry.staged) {
      resolved = specForNode(entry, node_id);
      if (!resolved) return;  // outside the wave of a staged first deployment
    }
    const AppSpec& app = resolved ? *resolved : entry;
    auto it = chosen.find(app.name);
    if (it == chosen.end()) {
      chosen.emplace(app.name, EffectiveApp{app, source});
      return;
    }
    // A tombstone is what an app leaves behind when it moved or was removed: it never
    // shadows a live entry (app names are unique, so the live one is where the app is now),
    // and the pair is no conflict.
    bool held_tomb = it->second.spec.state == DesiredState::kRemoved;
    bool offered_tomb = app.state == DesiredState::kRemoved;
    if (held_tomb && !offered_tomb) {
      it->second = EffectiveApp{app, source};
      return;
    }
    if (offered_tomb) return;
    Conflict& c = conflicts[app.name];
    c.app = app.name;
    c.winner = it->second.source;
    c.losers.push_back(source);
  };
  for (const AppSpec& app : node.apps) offer(app, "node");
  // std::map iterates group names in lexicographic order: the first group wins.
  for (const auto& [group, doc] : groups) {
    bool listed = false;
    for (const std::string& g : node.groups) listed = listed || g == group;
    if (!listed) continue;
    for (const AppSpec& app : doc.apps) offer(app, "group:" + group);
  }
  EffectiveDesired out;
  for (auto& [name, app] : chosen) out.apps.push_back(std::move(app));
  for (auto& [name, c] : conflicts) out.conflicts.push_back(std::move(c));
  return out;
}

Variables appVariables(const std::string& node_id,
                       const std::map<std::string, std::string>& config_labels,
                       const std::map<std::string, std::string>& doc_labels, const AppSpec& app,
                       const std::map<std::string, std::string>& secrets) {
  return pharos::appVariables(node_id, config_labels, doc_labels, app.variables, secrets);
}

}  // namespace pharos::agent
