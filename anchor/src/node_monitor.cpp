// Messages from agents (node_monitor.h): status/info register a node on first sight and drive
// its health; state feeds rollout summaries and removal bookkeeping; events go to the event
// log (rate-limited per node); metrics mark the node as seen (health and heartbeats:
// node_health_monitor.h).
// Anything malformed is dropped with a rate-limited log line. Runs on the anchor's strand.
#include "anchor/node_monitor.h"

#include "anchor/broker_admin.h"
#include "anchor/node_keys.h"
#include "pharos/log.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

namespace pharos::anchor {

using topics::NodeTopic;

namespace {
constexpr size_t kMaxPendingRegistrations = 10'000;
constexpr double kEventBurst = 50;
constexpr double kEventsPerSecond = 5;
}  // namespace

NodeMonitor::NodeMonitor(const AnchorOptions& config, Registry& reg, Store& store, EventLog& events,
                         DocPublisher& publisher, Guards& guards, RolloutTracker& rollouts,
                         std::map<std::string, NodeState>& node_states, LineMonitor& lines,
                         NodeHealthMonitor& health, MetricsHistory& history, Clock& clock)
    : config_(config),
      reg_(reg),
      store_(store),
      events_(events),
      publisher_(publisher),
      guards_(guards),
      rollouts_(rollouts),
      node_states_(node_states),
      lines_(lines),
      health_(health),
      history_(history),
      clock_(clock) {}

void NodeMonitor::enrolled(const std::string& node) {
  quarantine_.erase(node);
  health_.applyHealth(node, nullptr);
}

void NodeMonitor::removed(const std::string& node) {
  health_.forget(node);
  node_states_.erase(node);
  node_metrics_.erase(node);
  pending_registrations_.erase(node);
  event_tokens_.erase(node);
  quarantine_[node] = clock_.nowMs() + config_.removed_quarantine.count();
}

const Json* NodeMonitor::metrics(const std::string& node) const {
  auto it = node_metrics_.find(node);
  return it == node_metrics_.end() ? nullptr : &it->second;
}

const NodeState* NodeMonitor::reported(const std::string& node) const {
  auto it = node_states_.find(node);
  return it == node_states_.end() ? nullptr : &it->second;
}

bool NodeMonitor::quarantined(const std::string& node) {
  auto it = quarantine_.find(node);
  if (it == quarantine_.end()) return false;
  if (clock_.nowMs() < it->second) return true;
  quarantine_.erase(it);
  return false;
}

void NodeMonitor::onStatus(const std::string& node, const std::string& payload) {
  if (payload.empty()) return;  // a cleared retained status
  auto status = decodeNodeStatus(payload);
  if (!status) {
    guards_.logMalformed("status", topics::node(node, NodeTopic::kStatus), status.status());
    return;
  }
  if (quarantined(node)) return;
  if (!guards_.sessionBelievable(node, status->session, "status")) return;
  if (!reg_.findNode(node)) {
    auto& pending = pending_registrations_[node];
    pending.has_status = true;
    pending.status = *status;
    maybeRegister(node);
    lines_.checkLine(node);
    return;
  }
  health_.applyHealth(node, &*status);
}

void NodeMonitor::onInfo(const std::string& node, const std::string& payload) {
  if (payload.empty()) return;
  auto info = decodeNodeInfo(payload);
  if (!info) {
    guards_.logMalformed("info", topics::node(node, NodeTopic::kInfo), info.status());
    return;
  }
  if (quarantined(node)) return;
  Json json = encode(*info);
  json.erase("v");
  const NodeRecord* existing = reg_.findNode(node);
  if (existing && staleMove(node, *existing, *info)) return;
  if (!existing) {
    auto& pending = pending_registrations_[node];
    pending.has_info = true;
    pending.info = std::move(json);
    maybeRegister(node);
    lines_.checkLine(node);
    return;
  }
  health_.seen(node);
  lines_.checkLine(node);
  Json before = existing->info;
  if (before.is_object()) before.erase("ts");
  Json after = json;
  after.erase("ts");
  bool key_news = !info->public_key.empty() && info->public_key != existing->public_key &&
                  info->public_key != existing->pending_key;
  if (before == after && !key_news) return;
  Txn txn(reg_);
  txn.node(node)->info = std::move(json);
  if (key_news) checkNodeKey(txn, events_, clock_.nowMs(), node, info->public_key);
  // Info is not part of any document; an unsynced write is enough (agents republish it). A
  // key trusted on first sight changes the secrets document (published sealed to it).
  Status s = key_news ? publisher_.commit(txn, true) : txn.commit(store_, false);
  if (!s.isOk()) spdlog::warn("store: node {} info: {}", node, s.message());
  lines_.checkLine(node);
}

// A line broker keeps the retained info of a node that has since moved away (to another line
// or to the site) and sends it again whenever its bridge connects. Believed, it would move the
// node back and remove its identity from the broker it really connects through (line_monitor.cpp).
// An info naming another broker than the node's current one, but older (its agent's ts) than
// the current one, is that copy: ignored (logged, counted as stale_info).
bool NodeMonitor::staleMove(const std::string& name, const NodeRecord& node, const NodeInfo& info) {
  if (!node.info.is_object() || info.ts <= 0) return false;
  auto broker = node.info.find("broker");
  auto ts = node.info.find("ts");
  if (broker == node.info.end() || !broker->is_string() || ts == node.info.end() ||
      !ts->is_number_integer()) {
    return false;
  }
  if (broker->get<std::string>() == info.broker || info.ts >= ts->get<int64_t>()) return false;
  guards_.count("stale_info", 1);
  spdlog::warn(
      "node {}: ignored an info from {} older than its current one from {} (a copy "
      "the broker it left kept retained)",
      name, info.broker, broker->get<std::string>());
  return true;
}

void NodeMonitor::maybeRegister(const std::string& node) {
  auto it = pending_registrations_.find(node);
  if (it == pending_registrations_.end()) return;
  if (!it->second.has_info || !it->second.has_status) {
    if (pending_registrations_.size() > kMaxPendingRegistrations) {
      pending_registrations_.erase(it);
      guards_.logMalformed("registration", topics::node(node, NodeTopic::kInfo),
                           Status::unavailable("too many half-registered nodes"));
    }
    return;
  }
  PendingRegistration pending = std::move(it->second);
  pending_registrations_.erase(it);
  // Reports under a name reserved for another kind of broker account (forged by a line
  // broker, which may publish any node's reports) never register a node.
  if (Status s = checkNodeName(node, AccountKind::kNone); !s.isOk()) {
    guards_.logMalformed("registration", topics::node(node, NodeTopic::kInfo), s);
    return;
  }
  if (reg_.nodes().size() >= config_.max_nodes) {
    guards_.logMalformed("registration", topics::node(node, NodeTopic::kInfo),
                         Status::unavailable("node limit reached"));
    return;
  }
  NodeRecord record;
  record.name = node;
  record.registration = config_.require_approval ? Registration::kPending : Registration::kAccepted;
  // Trust on first sight: the key the node's info announces (docs/security.md).
  if (pending.info.is_object() && pending.info.contains("public_key") &&
      pending.info["public_key"].is_string()) {
    record.public_key = pending.info["public_key"].get<std::string>();
  }
  record.info = std::move(pending.info);
  record.created = clock_.nowMs();
  record.added_by = "auto";
  Txn txn(reg_);
  txn.putNode(std::move(record));
  txn.docs().touchNode(node);
  EventRecord event;
  event.ts = clock_.nowMs();
  event.source = "anchor";
  event.node = node;
  event.kind = "node_registered";
  event.message = config_.require_approval ? "pending approval" : "accepted";
  events_.stage(event, txn.extra());
  // Not an acknowledged change: unsynced (survives kill -9; after a power loss the agent's
  // retained info and status register it again with the same documents).
  Status s = publisher_.commit(txn, false);
  if (!s.isOk()) {
    spdlog::error("store: registering node {}: {}", node, s.message());
    return;
  }
  spdlog::info("node {} registered ({})", node,
               config_.require_approval ? "pending approval" : "accepted");
  health_.applyHealth(node, &pending.status);
}

void NodeMonitor::onState(const std::string& node, const std::string& payload) {
  if (payload.empty()) return;
  const NodeRecord* record = reg_.findNode(node);
  if (!record || record->registration == Registration::kPending) return;
  auto state = decodeNodeState(payload);
  if (!state) {
    guards_.logMalformed("state", topics::node(node, NodeTopic::kState), state.status());
    return;
  }
  health_.seen(node);
  auto& slot = node_states_[node];
  for (const auto& a : slot.apps) rollouts_.mark(a.name);
  for (const auto& a : state->apps) {
    if (reg_.findApp(a.name)) rollouts_.mark(a.name);
  }
  slot = std::move(*state);
  rollouts_.markAppsOfNode(node);
}

void NodeMonitor::onEvent(const std::string& node, const std::string& payload) {
  const NodeRecord* record = reg_.findNode(node);
  if (!record || payload.empty()) return;
  auto event = decodeNodeEvent(payload);
  if (!event) {
    guards_.logMalformed("event", topics::node(node, NodeTopic::kEvents), event.status());
    return;
  }
  // Token bucket per node, so one chatty or hostile device cannot flood the log.
  int64_t now = clock_.nowMs();
  auto [it, inserted] = event_tokens_.try_emplace(node, now, kEventBurst);
  auto& [last, tokens] = it->second;
  tokens =
      std::min(kEventBurst, tokens + static_cast<double>(now - last) / 1000.0 * kEventsPerSecond);
  last = now;
  if (tokens < 1) {
    guards_.logMalformed("event (rate limit)", topics::node(node, NodeTopic::kEvents),
                         Status::unavailable("more than 5 events/s"));
    return;
  }
  tokens -= 1;
  health_.seen(node);
  EventRecord e;
  e.ts = now;  // the anchor's clock orders the log (a device clock may be wrong)
  e.source = "node";
  e.node = node;
  e.app = event->app;
  e.kind = event->kind;
  e.service = event->service;
  e.reason = event->reason;
  e.message = event->message.substr(0, 4096);
  events_.append(std::move(e));
  health_.scheduleFlush();
}

void NodeMonitor::onMetrics(const std::string& node, const std::string& payload) {
  if (!reg_.findNode(node) || payload.empty()) return;
  auto metrics = decodeNodeMetrics(payload);
  if (!metrics) {
    guards_.logMalformed("metrics", topics::node(node, NodeTopic::kMetrics), metrics.status());
    return;
  }
  health_.seen(node);
  history_.record(node, clock_.nowMs(), *metrics);
  health_.scheduleFlush();
  Json json = encode(*metrics);
  json.erase("v");
  json.erase("containers");
  node_metrics_[node] = std::move(json);
}

}  // namespace pharos::anchor
