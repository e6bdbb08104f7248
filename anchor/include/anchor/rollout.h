// Rollout summary of one app (DESIGN.md section 3): per target node pending / applied /
// running / failed / notready, computed from the nodes' reported `state` documents and
// their health. NotReady nodes are counted apart, never as failed. Pure function.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "anchor/model.h"

namespace pharos::anchor {

struct RolloutInputs {
  // The node's last reported state, or nullptr when none was seen.
  std::function<const NodeState*(const std::string& node)> state_of;
  // The node's health state (Ready, NotReady, ...).
  std::function<std::string(const std::string& node)> health_of;
};

// The status of `app` on one node ("pending", ...) and its message.
RolloutNode rolloutNode(const AppRecord& app, const std::string& node, const RolloutInputs& in);

RolloutSummary computeRollout(const AppRecord& app, const std::set<std::string>& target_nodes,
                              const RolloutInputs& in, int64_t now_ms);

}  // namespace pharos::anchor
