// Rollout summaries (rollout.h). Pure functions.
#include "anchor/rollout.h"

#include <algorithm>

#include "pharos/rollout_wave.h"

namespace pharos::anchor {

bool servicesRunning(const AppState& state) {
  for (const auto& s : state.services) {
    if (s.state == ContainerState::kRunning) {
      if (s.health == "unhealthy" || s.health == "starting") return false;
    } else if (s.state == ContainerState::kExited) {
      if (s.exit_code != 0) return false;
    } else {
      return false;
    }
  }
  return true;
}

RolloutNode rolloutNode(const AppRecord& app, const std::string& node, const RolloutInputs& in,
                        const AppSpec* spec) {
  RolloutNode out;
  out.node = node;
  int64_t expected = app.revision;
  if (spec && spec->staged) {
    auto mine = specForNode(*spec, node);
    if (!mine) {
      out.status = "pending";
      out.message = "outside the rollout's wave";
      return out;
    }
    expected = mine->revision;
  }
  if (!in.ready(node)) {
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
  if (!found || found->revision != expected) {
    out.status = "pending";
    return out;
  }
  out.message = found->message;
  if (found->phase == AppPhase::kFailed || found->phase == AppPhase::kCrashLoop) {
    out.status = "failed";
  } else if (app.state == DesiredState::kRunning && found->phase == AppPhase::kRunning &&
             servicesRunning(*found)) {
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
  AppSpec spec;
  if (app.rollout) {
    out.staged = stagedSummary(*app.rollout, now_ms, in.time_zone);
    if (app.rollout->staged) spec = toAppSpec(app);
  }
  for (const auto& node : target_nodes) {
    RolloutNode n = rolloutNode(app, node, in, &spec);
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

RolloutStaged stagedSummary(const AppRollout& rollout, int64_t now_ms,
                            const std::string& time_zone) {
  const RolloutState& st = rollout.state;
  RolloutStaged out;
  out.phase = phaseName(st.phase);
  out.revision = st.revision;
  out.wave = st.wave + 1;
  out.waves = static_cast<int>(st.strategy.waves.size());
  out.previous_revision = st.previous_revision;
  out.soak_left_ms = std::max<int64_t>(0, RolloutPlan(st).soakLeftMs(now_ms));
  out.reason = st.reason;
  if (st.strategy.window) {
    out.window = windowText(*st.strategy.window);
    out.time_zone = time_zone;
  }
  for (const auto& [node, p] : st.nodes) {
    if (out.gate.size() >= static_cast<size_t>(kMaxRolloutNodes)) break;
    out.gate.push_back(RolloutGateNode{node, nodeGateName(p.gate), p.reason});
  }
  return out;
}

}  // namespace pharos::anchor
