// Rollout summaries (rollout.h). Pure functions.
#include "anchor/rollout.h"

#include <algorithm>

namespace pharos::anchor {
namespace {

// Every long-running service running (and healthy where it has a healthcheck); one-shot
// services exited 0.
bool servicesRunning(const AppState& state) {
  for (const auto& s : state.services) {
    if (s.state == "running") {
      if (s.health == "unhealthy" || s.health == "starting") return false;
    } else if (s.state == "exited") {
      if (s.exit_code != 0) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

RolloutNode rolloutNode(const AppRecord& app, const std::string& node, const RolloutInputs& in) {
  RolloutNode out;
  out.node = node;
  if (in.health_of(node) != "Ready") {
    out.status = "notready";
    return out;
  }
  const NodeState* state = in.state_of(node);
  const AppState* found = nullptr;
  if (state) {
    for (const auto& a : state->apps) {
      if (a.name == app.name) {
        found = &a;
        break;
      }
    }
  }
  if (!found || found->revision != app.revision) {
    out.status = "pending";
    return out;
  }
  out.message = found->message;
  if (found->phase == "Failed" || found->phase == "CrashLoop") {
    out.status = "failed";
  } else if (app.state == "running" && found->phase == "Running" && servicesRunning(*found)) {
    out.status = "running";
  } else {
    out.status = "applied";
  }
  return out;
}

std::chrono::milliseconds rolloutDelay(std::chrono::microseconds last_cost,
                                       std::chrono::milliseconds min,
                                       std::chrono::milliseconds max) {
  auto scaled = std::chrono::ceil<std::chrono::milliseconds>(last_cost * 10);
  return std::clamp(scaled, min, std::max(min, max));
}

RolloutSummary computeRollout(const AppRecord& app, const std::set<std::string>& target_nodes,
                              const RolloutInputs& in, int64_t now_ms) {
  RolloutSummary out;
  out.app = app.name;
  out.target_kind = targetKindName(app.target.kind);
  out.target = app.target.name;
  out.revision = app.revision;
  out.ts = now_ms;
  for (const auto& node : target_nodes) {
    RolloutNode n = rolloutNode(app, node, in);
    ++out.total;
    if (n.status == "pending") ++out.pending;
    if (n.status == "applied") ++out.applied;
    if (n.status == "running") ++out.running;
    if (n.status == "failed") ++out.failed;
    if (n.status == "notready") ++out.notready;
    if (out.nodes.size() < static_cast<size_t>(kMaxRolloutNodes)) {
      out.nodes.push_back(std::move(n));
    } else {
      out.truncated = true;
    }
  }
  return out;
}

}  // namespace pharos::anchor
