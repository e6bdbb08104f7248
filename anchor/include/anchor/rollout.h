// Rollout summary of one app (DESIGN.md section 3): per target node pending / applied /
// running / failed / notready, computed from the nodes' reported `state` documents and
// their health. NotReady nodes are counted apart, never as failed. Pure function.
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>

#include "anchor/model.h"

namespace pharos::anchor {

struct RolloutInputs {
  // The node's last reported state, or nullptr when none was seen.
  std::function<const NodeState*(const std::string& node)> state_of;
  // Whether the node's health is Ready.
  std::function<bool(const std::string& node)> ready;
  // The site's time zone (site_time_zone), shown with a staged rollout's update window.
  std::string time_zone;
};

// The status of `app` on one node ("pending", ...) and its message. `spec` (toAppSpec(app))
// says which revision the node runs while a staged rollout holds it outside the wave.
RolloutNode rolloutNode(const AppRecord& app, const std::string& node, const RolloutInputs& in,
                        const AppSpec* spec = nullptr);

// Every long-running service running (and healthy where it has a healthcheck); one-shot
// services exited 0.
bool servicesRunning(const AppState& state);

// The staged part of the summary: phase, wave, gate per node, soak time left, and the update
// window with the zone it is read in.
RolloutStaged stagedSummary(const AppRollout& rollout, int64_t now_ms,
                            const std::string& time_zone);

// How long to wait before the next rollout publish: ten times what the last round of
// summaries cost (so a 10,000-node rollout keeps the strand ~90 % free for agent reports),
// but never less than `min` nor more than `max`. A small rollout is summarised within `min`
// of its last report instead of a fixed debounce.
std::chrono::milliseconds rolloutDelay(std::chrono::microseconds last_cost,
                                       std::chrono::milliseconds min,
                                       std::chrono::milliseconds max);

RolloutSummary computeRollout(const AppRecord& app, const std::set<std::string>& target_nodes,
                              const RolloutInputs& in, int64_t now_ms);

}  // namespace pharos::anchor
