// What the agents report, as the anchor keeps it (DESIGN.md section 3, docs/anchor.md
// "Health"): status and info register a node on first sight and feed its health verdict;
// state reports feed the rollout summaries and removal; events go to the event log,
// rate-limited per node; metrics are kept for node.get. The monitor owns that run-time
// knowledge (reported states live with the anchor, shared with the rollout tracker) and the
// quarantine of removed nodes. Health verdicts, heartbeats and the store flush belong to the
// NodeHealthMonitor; which line a node sits behind, and whether that line is reachable, comes
// from the LineMonitor.
//
// Threading: runs on the anchor's strand.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "anchor/anchor_config.h"
#include "anchor/doc_publisher.h"
#include "anchor/event_log.h"
#include "anchor/guards.h"
#include "anchor/line_monitor.h"
#include "anchor/node_health_monitor.h"
#include "anchor/node_watch.h"
#include "anchor/registry.h"
#include "anchor/rollout_tracker.h"
#include "anchor/store.h"
#include "pharos/clock.h"

namespace pharos::anchor {

class NodeMonitor : public NodeWatch {
 public:
  NodeMonitor(const AnchorOptions& config, Registry& reg, Store& store, EventLog& events,
              DocPublisher& publisher, Guards& guards, RolloutTracker& rollouts,
              std::map<std::string, NodeState>& node_states, LineMonitor& lines,
              NodeHealthMonitor& health, MetricsHistory& history, Clock& clock);

  // nodes/{node}/... messages from agents (heartbeats: NodeHealthMonitor).
  void onStatus(const std::string& node, const std::string& payload);
  void onInfo(const std::string& node, const std::string& payload);
  void onState(const std::string& node, const std::string& payload);
  void onEvent(const std::string& node, const std::string& payload);
  void onMetrics(const std::string& node, const std::string& payload);

  // NodeWatch
  bool onLine(const std::string& node) const override { return lines_.onLine(node); }
  void syncLineRights(const std::string& node) override { lines_.syncLineAcls(node); }
  void releaseLine(const std::string& node) override { lines_.releaseNode(node); }
  void refreshHealth(const std::string& node) override { health_.applyHealth(node, nullptr); }
  void enrolled(const std::string& node) override;
  void removed(const std::string& node) override;
  const Json* metrics(const std::string& node) const override;
  const NodeState* reported(const std::string& node) const override;

 private:
  struct PendingRegistration {
    bool has_info = false;
    bool has_status = false;
    Json info;
    NodeStatus status;
  };

  bool quarantined(const std::string& node);
  void maybeRegister(const std::string& node);
  // An info older than the node's current one that would move it to another broker (a
  // retained copy its old line broker sent again): ignored, counted.
  bool staleMove(const std::string& name, const NodeRecord& node, const NodeInfo& info);

  const AnchorOptions& config_;
  Registry& reg_;
  Store& store_;
  EventLog& events_;
  DocPublisher& publisher_;
  Guards& guards_;
  RolloutTracker& rollouts_;
  std::map<std::string, NodeState>& node_states_;  // last reported, per node
  LineMonitor& lines_;
  NodeHealthMonitor& health_;
  MetricsHistory& history_;
  Clock& clock_;

  std::map<std::string, Json> node_metrics_;
  std::map<std::string, PendingRegistration> pending_registrations_;
  std::map<std::string, int64_t> quarantine_;                       // removed node -> until (ms)
  std::map<std::string, std::pair<int64_t, double>> event_tokens_;  // node -> (ms, tokens)
};

}  // namespace pharos::anchor
