// The site model fed by Pharos topics (fleet.h).
#include "sparkplug/fleet.h"

#include "pharos/topics.h"

namespace pharos::sparkplug {

std::vector<std::string> Fleet::subscriptions() {
  using topics::NodeTopic;
  return {topics::allNodes(NodeTopic::kHealth),
          topics::allNodes(NodeTopic::kInfo),
          topics::allNodes(NodeTopic::kState),
          topics::allNodes(NodeTopic::kMetrics),
          topics::anchorStatus(),
          topics::allRollouts()};
}

const DeviceFacts* Fleet::device(const std::string& node) const {
  auto it = devices_.find(node);
  return it == devices_.end() ? nullptr : &it->second;
}

Result<FleetChange> Fleet::apply(const MqttMessage& message) {
  auto parsed = topics::parse(message.topic);
  if (!parsed) return parsed.status();
  FleetChange change;
  const bool deleted = message.payload.empty();
  switch (parsed->kind) {
    case topics::Kind::kAnchorStatus: {
      std::string state = "unknown";
      if (!deleted) {
        auto status = decodeAnchorStatus(message.payload);
        if (!status) return status.status();
        state = status->state;
      }
      if (state != anchor_) change.kind = FleetChange::Kind::kFleet;
      anchor_ = state;
      return change;
    }
    case topics::Kind::kAppRollout: {
      if (deleted) {
        if (rollouts_.erase(parsed->app) > 0) change.kind = FleetChange::Kind::kFleet;
        return change;
      }
      auto rollout = decodeRolloutSummary(message.payload);
      if (!rollout) return rollout.status();
      rollouts_[parsed->app] = std::move(*rollout);
      change.kind = FleetChange::Kind::kFleet;
      return change;
    }
    case topics::Kind::kNode:
      break;
    default:
      return Status::invalidArgument("not a topic the edge node reads");
  }
  const std::string& node = parsed->node;
  change.node = node;
  change.kind = FleetChange::Kind::kDevice;
  if (parsed->node_kind == topics::NodeTopic::kHealth) {
    auto it = devices_.find(node);
    std::optional<Readiness> before;
    if (it != devices_.end() && it->second.health) before = it->second.health->state;
    if (deleted) {
      // The node left management (node.remove): forget it entirely.
      if (it == devices_.end()) return FleetChange{};
      devices_.erase(it);
      change.health_changed = true;
      change.removed = true;
      return change;
    }
    auto health = decodeNodeHealth(message.payload);
    if (!health) return health.status();
    change.health_changed = before != health->state;
    devices_[node].health = std::move(*health);
    return change;
  }
  // info/state/metrics of a node the anchor has no verdict for yet are kept: the verdict
  // usually follows within milliseconds.
  if (deleted) {
    auto it = devices_.find(node);
    if (it == devices_.end()) return FleetChange{};
    if (parsed->node_kind == topics::NodeTopic::kInfo) it->second.info.reset();
    if (parsed->node_kind == topics::NodeTopic::kState) it->second.state.reset();
    return change;
  }
  switch (parsed->node_kind) {
    case topics::NodeTopic::kInfo: {
      auto info = decodeNodeInfo(message.payload);
      if (!info) return info.status();
      devices_[node].info = std::move(*info);
      return change;
    }
    case topics::NodeTopic::kState: {
      auto state = decodeNodeState(message.payload);
      if (!state) return state.status();
      devices_[node].state = std::move(*state);
      return change;
    }
    case topics::NodeTopic::kMetrics: {
      auto metrics = decodeNodeMetrics(message.payload);
      if (!metrics) return metrics.status();
      metrics->containers.clear();  // per-container figures are not part of the tree
      devices_[node].metrics = std::move(*metrics);
      return change;
    }
    default:
      return Status::invalidArgument("not a topic the edge node reads");
  }
}

FleetCounts Fleet::counts() const {
  FleetCounts c;
  c.anchor = anchor_;
  for (const auto& [node, facts] : devices_) {
    if (!facts.health) continue;
    ++c.nodes;
    switch (facts.health->state) {
      case Readiness::kReady:
        ++c.ready;
        break;
      case Readiness::kNotReady:
        ++c.not_ready;
        break;
      case Readiness::kUnreachable:
        ++c.unreachable;
        break;
      case Readiness::kPending:
        ++c.pending;
        break;
    }
  }
  c.apps = static_cast<int>(rollouts_.size());
  for (const auto& [app, r] : rollouts_) {
    // In progress: some Ready target has neither reached the revision running nor failed.
    if (r.pending + r.applied > 0) ++c.rollouts_in_progress;
  }
  return c;
}

}  // namespace pharos::sparkplug
