// Agents' heartbeats (node_health_monitor.h, health.h HeartbeatTracker; docs/anchor.md "Health").
// Each heartbeat on nodes/{node}/heartbeat moves its node's deadline to 1.5 x keep-alive from now;
// a check every node_heartbeat_check turns a Ready node whose deadline passed NotReady
// ("heartbeat timeout ..."), and the next heartbeat of the same session makes it Ready again.
// The broker's will stays the fast path for a killed agent; this times a frozen or cut-off
// one, which Mosquitto 2.0 notices only on its coarse keep-alive scan.
//
// The anchor never blames a node for its own delays: a check that runs late (loop lag beyond
// node_heartbeat_lag_guard), heartbeats dropped under back-pressure, and its own link being
// away (onAnchorConnected) push the deadlines forward; a line that comes back restarts those of
// its nodes (line_monitor.cpp). Runs on the anchor's strand.
#include "anchor/node_health_monitor.h"
#include "pharos/log.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

namespace pharos::anchor {

using topics::NodeTopic;

void NodeHealthMonitor::onHeartbeat(const std::string& node, const std::string& payload) {
  const NodeRecord* record = reg_.findNode(node);
  if (!record || payload.empty()) return;
  auto beat = decodeNodeHeartbeat(payload);
  if (!beat) {
    guards_.logMalformed("heartbeat", topics::node(node, NodeTopic::kHeartbeat), beat.status());
    return;
  }
  if (record->registration == Registration::kPending) return;  // watched once approved
  if (!guards_.sessionBelievable(node, beat->session, "heartbeat")) return;
  auto health = reg_.health().find(node);
  if (health == reg_.health().end()) return;
  seen(node);
  auto result = beats_.beat(node, *beat, health->second, clock_.nowMs());
  if (result == HeartbeatTracker::Beat::kIgnored) {
    spdlog::debug("node {}: ignored a heartbeat of session {} (older than session {})", node,
                  beat->session, health->second.lastSession());
    return;
  }
  if (result == HeartbeatTracker::Beat::kRevived) {
    spdlog::info("node {}: heartbeat again (session {})", node, beat->session);
    applyHealth(node, nullptr);
  }
  scheduleHeartbeatCheck();
}

void NodeHealthMonitor::onAnchorConnected() { beats_.restartAll(clock_.nowMs()); }

void NodeHealthMonitor::restartHeartbeat(const std::string& node) {
  beats_.restart(node, clock_.nowMs());
}

void NodeHealthMonitor::scheduleHeartbeatCheck() {
  if (beat_check_scheduled_ || beats_.nodes() == 0) return;
  beat_check_scheduled_ = true;
  beat_check_armed_ = clock_.nowMs();
  std::weak_ptr<bool> alive = alive_;
  strand_.postDelayed(config_.node_heartbeat_check, [this, alive] {
    if (alive.expired()) return;
    beat_check_scheduled_ = false;
    checkHeartbeats();
    scheduleHeartbeatCheck();
  });
}

void NodeHealthMonitor::checkHeartbeats() {
  const int64_t now = clock_.nowMs();
  const int64_t elapsed = now - beat_check_armed_;
  const int64_t lag = elapsed - config_.node_heartbeat_check.count();
  const size_t drops = beat_drops_->load();
  if (drops != beat_drops_seen_) {
    // Heartbeats were dropped since the last check: the deadlines wait for as long.
    spdlog::warn("{} heartbeats dropped under back-pressure: deadlines pushed by {} ms",
                 drops - beat_drops_seen_, elapsed);
    beat_drops_seen_ = drops;
    beats_.postponeAll(elapsed);
  } else if (lag > config_.node_heartbeat_lag_guard.count()) {
    // The strand was busy (or the process stopped): heartbeats may be queued behind us.
    spdlog::warn("heartbeat check ran {} ms late: deadlines pushed by as much", lag);
    beats_.postponeAll(lag);
  }
  // While the anchor itself is cut off it learns nothing; onConnected restarts the clocks.
  if (!publisher_.connected()) return;
  for (const std::string& node : beats_.expire(now)) {
    if (!reg_.findNode(node)) {
      beats_.forget(node);
      continue;
    }
    auto health = reg_.health().find(node);
    if (health == reg_.health().end()) continue;
    std::string reason = beats_.timeoutReason(node, health->second);
    if (!reason.empty()) spdlog::warn("node {}: {}", node, reason);
    applyHealth(node, nullptr);
  }
}

}  // namespace pharos::anchor
