// Node health verdicts and the store flush (node_health_monitor.h): a status or a timed-out
// heartbeat moves a node's verdict (health.h updateVerdict); a changed verdict is published,
// marked for the next flush, and a transition is logged as an event and re-summarises the
// node's rollouts. The flush writes changed health records, buffered events and the metrics
// history. Runs on the anchor's strand.
#include "anchor/node_health_monitor.h"

#include "anchor/model.h"
#include "pharos/log.h"

namespace pharos::anchor {

namespace {
constexpr int64_t kLastSeenPersistMs = 60'000;
}  // namespace

NodeHealthMonitor::NodeHealthMonitor(const AnchorOptions& config, Registry& reg, Store& store,
                                     EventLog& events, DocPublisher& publisher, Guards& guards,
                                     RolloutTracker& rollouts, const LineMonitor& lines,
                                     MetricsHistory& history, Strand& strand, Clock& clock)
    : config_(config),
      reg_(reg),
      store_(store),
      events_(events),
      publisher_(publisher),
      guards_(guards),
      rollouts_(rollouts),
      lines_(lines),
      history_(history),
      strand_(strand),
      clock_(clock) {}

void NodeHealthMonitor::applyHealth(const std::string& node, const NodeStatus* status) {
  const NodeRecord* record = reg_.findNode(node);
  if (!record) return;
  auto [it, inserted] = reg_.health().try_emplace(node);
  NodeHealthRecord& health = it->second;
  if (status) {
    if (!acceptStatus(health, *status)) {
      spdlog::debug("node {}: ignored {} of session {} (older than Ready session {})", node,
                    toWire(status->state), status->session, health.newest_ready_session);
      return;
    }
    health.last_seen = clock_.nowMs();
    beats_.onStatus(node, status->session);
  }
  HealthChange change =
      updateVerdict(health, record->registration, clock_.nowMs(), lines_.unreachableReason(node),
                    beats_.timeoutReason(node, health));
  if (change == HealthChange::kNone && !inserted) return;
  dirty_health_.insert(node);
  scheduleFlush();
  publisher_.health(node);
  if (change == HealthChange::kTransition) {
    EventRecord event;
    event.ts = clock_.nowMs();
    event.source = "anchor";
    event.node = node;
    event.kind = "health_changed";
    event.reason = toWire(health.health.state);
    event.message = health.health.reason;
    events_.append(std::move(event));
    rollouts_.markAppsOfNode(node);
  }
}

void NodeHealthMonitor::seen(const std::string& node) {
  auto it = reg_.health().find(node);
  if (it == reg_.health().end()) return;
  int64_t now = clock_.nowMs();
  it->second.last_seen = now;
  int64_t& persisted = last_seen_persisted_[node];
  if (now - persisted >= kLastSeenPersistMs) {
    persisted = now;
    dirty_health_.insert(node);
    scheduleFlush();
  }
}

void NodeHealthMonitor::forget(const std::string& node) {
  reg_.health().erase(node);
  last_seen_persisted_.erase(node);
  dirty_health_.erase(node);
}

void NodeHealthMonitor::healthChanged(const std::vector<std::string>& nodes) {
  for (const auto& node : nodes) dirty_health_.insert(node);
  if (!nodes.empty()) scheduleFlush();
}

void NodeHealthMonitor::scheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  std::weak_ptr<bool> alive = alive_;
  strand_.postDelayed(config_.flush_interval, [this, alive] {
    if (alive.expired()) return;
    flush_scheduled_ = false;
    flush();
  });
}

void NodeHealthMonitor::flush() {
  WriteBatch batch;
  for (const auto& node : dirty_health_) {
    auto it = reg_.health().find(node);
    if (it == reg_.health().end() || !reg_.findNode(node)) continue;
    batch.put(keys::health(node), dumpJson(toJson(it->second)));
  }
  dirty_health_.clear();
  if (!batch.empty()) {
    Status s = store_.write(batch, false);
    if (!s.isOk()) spdlog::warn("store: writing health records: {}", s.message());
  }
  Status s = events_.flush();
  if (!s.isOk()) spdlog::warn("store: writing events: {}", s.message());
  s = history_.flush();
  if (!s.isOk()) spdlog::warn("store: writing metrics history: {}", s.message());
}

}  // namespace pharos::anchor
