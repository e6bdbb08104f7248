// What the agents report, as the anchor keeps it (DESIGN.md section 3, docs/anchor.md
// "Health"): status and info register a node on first sight and drive its health verdict;
// heartbeats time a frozen or cut-off agent; state reports feed the rollout summaries and
// removal; events go to the event log, rate-limited per node; metrics are kept for node.get.
// The monitor owns that run-time knowledge (reported states live with the anchor, shared with
// the rollout tracker) and the health records' periodic flush to the store. Which line a node
// sits behind, and whether that line is reachable, comes from the LineMonitor.
//
// Threading: runs on the anchor's strand, except beatDrops(), which the link's callback
// counts on its own thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "anchor/anchor_config.h"
#include "anchor/doc_publisher.h"
#include "anchor/event_log.h"
#include "anchor/guards.h"
#include "anchor/health.h"
#include "anchor/line_monitor.h"
#include "anchor/metrics_history.h"
#include "anchor/node_watch.h"
#include "anchor/registry.h"
#include "anchor/rollout_tracker.h"
#include "anchor/store.h"
#include "pharos/clock.h"
#include "pharos/executor.h"

namespace pharos::anchor {

class NodeMonitor : public NodeWatch {
 public:
  NodeMonitor(const AnchorOptions& config, Registry& reg, Store& store, EventLog& events,
              DocPublisher& publisher, Guards& guards, RolloutTracker& rollouts,
              std::map<std::string, NodeState>& node_states, LineMonitor& lines,
              MetricsHistory& history, Strand& strand, Clock& clock);

  // nodes/{node}/... messages from agents (node_monitor.cpp; heartbeats:
  // node_heartbeats.cpp).
  void onStatus(const std::string& node, const std::string& payload);
  void onInfo(const std::string& node, const std::string& payload);
  void onState(const std::string& node, const std::string& payload);
  void onEvent(const std::string& node, const std::string& payload);
  void onMetrics(const std::string& node, const std::string& payload);
  void onHeartbeat(const std::string& node, const std::string& payload);

  // The health verdict of `node` again, with its new status when there is one.
  void applyHealth(const std::string& node, const NodeStatus* status);
  // The node's heartbeat deadline starts again from now (its line is reachable again).
  void restartHeartbeat(const std::string& node);
  // The anchor's link is back: every heartbeat deadline gets a whole 1.5 x keep-alive.
  void onAnchorConnected();
  // Heartbeats the link callback dropped under back-pressure (counted off the strand).
  std::shared_ptr<std::atomic<size_t>> beatDrops() const { return beat_drops_; }

  // Health records of `nodes` are written at the next flush.
  void healthChanged(const std::vector<std::string>& nodes);
  // Writes changed health records and buffered events soon / now.
  void scheduleFlush();
  void flush();

  // NodeWatch
  bool onLine(const std::string& node) const override { return lines_.onLine(node); }
  void syncLineRights(const std::string& node) override { lines_.syncLineAcls(node); }
  void releaseLine(const std::string& node) override { lines_.releaseNode(node); }
  void refreshHealth(const std::string& node) override { applyHealth(node, nullptr); }
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
  void seen(const std::string& node);
  // An info older than the node's current one that would move it to another broker (a
  // retained copy its old line broker sent again): ignored, counted.
  bool staleMove(const std::string& name, const NodeRecord& node, const NodeInfo& info);
  void scheduleHeartbeatCheck();
  void checkHeartbeats();

  const AnchorOptions& config_;
  Registry& reg_;
  Store& store_;
  EventLog& events_;
  DocPublisher& publisher_;
  Guards& guards_;
  RolloutTracker& rollouts_;
  std::map<std::string, NodeState>& node_states_;  // last reported, per node
  LineMonitor& lines_;
  MetricsHistory& history_;
  Strand& strand_;
  Clock& clock_;

  std::map<std::string, int64_t> last_seen_persisted_;
  std::map<std::string, Json> node_metrics_;
  std::map<std::string, PendingRegistration> pending_registrations_;
  std::map<std::string, int64_t> quarantine_;  // removed node -> until (ms)
  std::set<std::string> dirty_health_;
  std::map<std::string, std::pair<int64_t, double>> event_tokens_;  // node -> (ms, tokens)
  bool flush_scheduled_ = false;
  HeartbeatTracker beats_;  // agents' heartbeat deadlines
  bool beat_check_scheduled_ = false;
  int64_t beat_check_armed_ = 0;  // ms when the pending check was scheduled
  size_t beat_drops_seen_ = 0;    // beat_drops_ at the last check
  std::shared_ptr<std::atomic<size_t>> beat_drops_ = std::make_shared<std::atomic<size_t>>(0);
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pharos::anchor
