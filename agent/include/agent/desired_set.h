// The effective desired state of a node (DESIGN.md section 2, "Effective desired state"):
// the union of the node document and the documents of the groups it lists, the
// epoch/generation rule deciding whether a newly arrived document replaces the held one,
// and the variables a compose file of this node is interpolated with. Pure functions over
// values: thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pharos/compose.h"
#include "pharos/messages.h"

namespace pharos::agent {

// A document is applied when none is held, the epoch differs, or the generation is higher.
bool shouldApply(const std::optional<DesiredDoc>& held, const DesiredDoc& incoming);
bool shouldApply(const std::optional<SecretsDoc>& held, const SecretsDoc& incoming);

struct EffectiveApp {
  AppSpec spec;
  std::string source;  // "node" | "group:<name>"
};

struct Conflict {
  std::string app;
  std::string winner;               // source that won
  std::vector<std::string> losers;  // sources that also named the app
};

struct EffectiveDesired {
  std::vector<EffectiveApp> apps;  // by app name
  std::vector<Conflict> conflicts;
};

// The node document wins over groups; among groups the lexicographically first group name
// wins. A tombstone (state removed) never wins over a live entry of the same app (the app
// moved to another document) and is no conflict. Only groups the node document lists are
// considered. A staged app (docs/protocol.md "Staged rollouts") is first resolved for
// `node_id` (pharos/rollout_wave.h specForNode): the node's wave decides which revision it
// runs, and outside the wave of a staged first deployment the document does not name the app.
EffectiveDesired unionDesired(const std::string& node_id, const DesiredDoc& node,
                              const std::map<std::string, DesiredDoc>& groups);

// Variables for one app on this node: pharos::appVariables (node_variables.h) over the
// app's deploy variables; the node's id and labels win over a variable of the same name.
Variables appVariables(const std::string& node_id,
                       const std::map<std::string, std::string>& config_labels,
                       const std::map<std::string, std::string>& doc_labels, const AppSpec& app,
                       const std::map<std::string, std::string>& secrets);

}  // namespace pharos::agent
