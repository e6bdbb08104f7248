// The anchor's run-time view of node health (DESIGN.md section 3, docs/anchor.md "Health"):
// the health verdict of each registered node, driven by its status reports, its heartbeat
// deadline and the reachability of its line; when a node was last seen; and the periodic flush
// of changed health records, buffered events and the metrics history to the store.
// Heartbeats time a frozen or cut-off agent (node_heartbeats.cpp); the verdict and the flush
// live in node_health_monitor.cpp. NodeMonitor feeds it the other reports.
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
#include <vector>

#include "anchor/anchor_config.h"
#include "anchor/doc_publisher.h"
#include "anchor/event_log.h"
#include "anchor/guards.h"
#include "anchor/health.h"
#include "anchor/line_monitor.h"
#include "anchor/metrics_history.h"
#include "anchor/registry.h"
#include "anchor/rollout_tracker.h"
#include "anchor/store.h"
#include "pharos/clock.h"
#include "pharos/executor.h"

namespace pharos::anchor {

class NodeHealthMonitor {
 public:
  NodeHealthMonitor(const AnchorOptions& config, Registry& reg, Store& store, EventLog& events,
                    DocPublisher& publisher, Guards& guards, RolloutTracker& rollouts,
                    const LineMonitor& lines, MetricsHistory& history, Strand& strand,
                    Clock& clock);

  // nodes/{node}/heartbeat (node_heartbeats.cpp).
  void onHeartbeat(const std::string& node, const std::string& payload);
  // The node's heartbeat deadline starts again from now (its line is reachable again).
  void restartHeartbeat(const std::string& node);
  // The anchor's link is back: every heartbeat deadline gets a whole 1.5 x keep-alive.
  void onAnchorConnected();
  // Heartbeats the link callback dropped under back-pressure (counted off the strand).
  std::shared_ptr<std::atomic<size_t>> beatDrops() const { return beat_drops_; }

  // The health verdict of `node` again, with its new status when there is one.
  void applyHealth(const std::string& node, const NodeStatus* status);
  // A report from a registered node arrived now; its last_seen is persisted about once a
  // minute.
  void seen(const std::string& node);
  // The node was removed: its health record and what is pending for it are dropped.
  void forget(const std::string& node);

  // Health records of `nodes` are written at the next flush.
  void healthChanged(const std::vector<std::string>& nodes);
  // Writes changed health records and buffered events soon / now.
  void scheduleFlush();
  void flush();

 private:
  void scheduleHeartbeatCheck();
  void checkHeartbeats();

  const AnchorOptions& config_;
  Registry& reg_;
  Store& store_;
  EventLog& events_;
  DocPublisher& publisher_;
  Guards& guards_;
  RolloutTracker& rollouts_;
  const LineMonitor& lines_;
  MetricsHistory& history_;
  Strand& strand_;
  Clock& clock_;

  std::map<std::string, int64_t> last_seen_persisted_;
  std::set<std::string> dirty_health_;
  bool flush_scheduled_ = false;
  HeartbeatTracker beats_;  // agents' heartbeat deadlines
  bool beat_check_scheduled_ = false;
  int64_t beat_check_armed_ = 0;  // ms when the pending check was scheduled
  size_t beat_drops_seen_ = 0;    // beat_drops_ at the last check
  std::shared_ptr<std::atomic<size_t>> beat_drops_ = std::make_shared<std::atomic<size_t>>(0);
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pharos::anchor
