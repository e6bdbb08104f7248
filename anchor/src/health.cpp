// Session rule, health verdict and heartbeat deadlines (health.h). No I/O, no clock of its own.
#include "anchor/health.h"

#include <fmt/format.h>

#include <algorithm>

namespace pharos::anchor {

bool acceptStatus(NodeHealthRecord& record, const NodeStatus& status) {
  if (status.session < record.newest_ready_session) return false;
  if (status.state == Readiness::kReady) record.newest_ready_session = status.session;
  record.last_status = status;
  return true;
}

HealthChange updateVerdict(NodeHealthRecord& record, Registration registration, int64_t now_ms) {
  return updateVerdict(record, registration, now_ms, std::string());
}

HealthChange updateVerdict(NodeHealthRecord& record, Registration registration, int64_t now_ms,
                           const std::string& unreachable) {
  return updateVerdict(record, registration, now_ms, unreachable, std::string());
}

HealthChange updateVerdict(NodeHealthRecord& record, Registration registration, int64_t now_ms,
                           const std::string& unreachable, const std::string& heartbeat_timeout) {
  NodeHealth next;
  next.session = record.lastSession();
  if (registration == Registration::kPending) {
    next.state = Readiness::kPending;
    next.reason = "awaiting approval (node.approve)";
  } else if (!unreachable.empty()) {
    next.state = Readiness::kUnreachable;
    next.reason = unreachable;
  } else if (!record.last_status) {
    next.state = Readiness::kNotReady;
    next.reason = "never connected";
  } else if (record.last_status->state == Readiness::kReady && !heartbeat_timeout.empty()) {
    next.state = Readiness::kNotReady;
    next.reason = heartbeat_timeout;
  } else {
    next.state = record.last_status->state;
    next.reason = record.last_status->reason;
  }
  NodeHealth& cur = record.health;
  // Every verdict is in the history: an empty one means no verdict yet, so the first is a
  // transition whatever its state.
  if (!record.history.empty() && cur.state == next.state) {
    if (cur.reason == next.reason && cur.session == next.session) return HealthChange::kNone;
    cur.reason = next.reason;
    cur.session = next.session;
    return HealthChange::kUpdated;
  }
  next.since = now_ms;
  cur = next;
  record.history.push_back(HealthTransition{cur.state, now_ms, cur.reason, cur.session});
  while (record.history.size() > kMaxHealthHistory) record.history.pop_front();
  return HealthChange::kTransition;
}

// ---- HeartbeatTracker ----------------------------------------------------------------------

namespace {
int64_t graceMs(int64_t keep_alive_ms) { return keep_alive_ms * 3 / 2; }
}  // namespace

HeartbeatTracker::Beat HeartbeatTracker::beat(const std::string& node,
                                              const NodeHeartbeat& heartbeat,
                                              const NodeHealthRecord& record, int64_t now_ms) {
  if (heartbeat.session < record.newest_ready_session || heartbeat.session < record.lastSession()) {
    return Beat::kIgnored;
  }
  auto [it, inserted] = watches_.try_emplace(node);
  Watch& w = it->second;
  if (!inserted && heartbeat.session < w.session) return Beat::kIgnored;
  bool revived = !inserted && w.timed_out && heartbeat.session == w.session;
  w.session = heartbeat.session;
  w.keep_alive_ms =
      std::clamp(heartbeat.keep_alive, kMinHeartbeatKeepAlive, kMaxHeartbeatKeepAlive) * 1000;
  w.last_beat = now_ms;
  w.timed_out = false;
  w.reason.clear();
  arm(node, w, now_ms + graceMs(w.keep_alive_ms));
  return revived ? Beat::kRevived : Beat::kWatched;
}

std::vector<std::string> HeartbeatTracker::expire(int64_t now_ms) {
  std::vector<std::string> out;
  while (!deadlines_.empty() && deadlines_.begin()->first + shift_ <= now_ms) {
    std::string node = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    Watch& w = watches_.at(node);
    w.live = false;
    w.timed_out = true;
    w.reason =
        fmt::format("heartbeat timeout (no heartbeat for {:.1f} s, keep-alive {} s)",
                    static_cast<double>(now_ms - w.last_beat) / 1000.0, w.keep_alive_ms / 1000);
    out.push_back(std::move(node));
  }
  return out;
}

std::string HeartbeatTracker::timeoutReason(const std::string& node,
                                            const NodeHealthRecord& record) const {
  auto it = watches_.find(node);
  if (it == watches_.end() || !it->second.timed_out) return {};
  if (it->second.session != record.lastSession()) return {};
  return it->second.reason;
}

void HeartbeatTracker::postponeAll(int64_t by_ms) {
  if (by_ms > 0) shift_ += by_ms;
}

void HeartbeatTracker::restartAll(int64_t now_ms) {
  std::set<std::pair<int64_t, std::string>> moved;
  for (const auto& [key, node] : deadlines_) {
    Watch& w = watches_.at(node);
    w.deadline_key = std::max(key + shift_, now_ms + graceMs(w.keep_alive_ms));
    moved.emplace(w.deadline_key, node);
  }
  deadlines_.swap(moved);
  shift_ = 0;
}

bool HeartbeatTracker::restart(const std::string& node, int64_t now_ms) {
  auto it = watches_.find(node);
  if (it == watches_.end()) return false;
  Watch& w = it->second;
  bool cleared = w.timed_out;
  w.timed_out = false;
  w.reason.clear();
  arm(node, w, now_ms + graceMs(w.keep_alive_ms));
  return cleared;
}

void HeartbeatTracker::onStatus(const std::string& node, int64_t session) {
  auto it = watches_.find(node);
  if (it != watches_.end() && it->second.session < session) forget(node);
}

void HeartbeatTracker::forget(const std::string& node) {
  auto it = watches_.find(node);
  if (it == watches_.end()) return;
  disarm(node, it->second);
  watches_.erase(it);
}

void HeartbeatTracker::arm(const std::string& node, Watch& watch, int64_t deadline_ms) {
  disarm(node, watch);
  watch.deadline_key = deadline_ms - shift_;
  watch.live = true;
  deadlines_.emplace(watch.deadline_key, node);
}

void HeartbeatTracker::disarm(const std::string& node, Watch& watch) {
  if (watch.live) deadlines_.erase({watch.deadline_key, node});
  watch.live = false;
}

}  // namespace pharos::anchor
