// Health across a bridge (DESIGN.md section 3, docs/levels.md): line brokers bridge to the
// site broker and publish Mosquitto's retained notification "1" / "0" on
// $SYS/broker/connection/<bridge>/state (the "0" is also the bridge's will at the site, so a
// dead line broker or a cut link is seen within 1.5 x the bridge keep-alive). While a bridge
// is down, every node whose info.broker sits behind it is Unreachable; when it returns, the
// node's last accepted status decides again (reports queued on the line arrive after).
// This is the Mosquitto-specific adapter for bridge reachability (line_monitor.h). It also
// decides which line broker holds a node's identity, so group read rights are granted there
// (syncLineAcls). Runs on the anchor's strand.
#include "anchor/line_monitor.h"

#include <fmt/format.h>

#include "pharos/log.h"

namespace pharos::anchor {

namespace {

constexpr std::string_view kConnectionPrefix = "$SYS/broker/connection/";
constexpr std::string_view kStateSuffix = "/state";

// The host of a broker URL: tcp://line-a.local:1883 -> line-a.local.
std::string brokerHost(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of(":/", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string lineOf(const std::string& bridge) {
  return bridge.rfind("bridge-", 0) == 0 ? bridge.substr(7) : bridge;
}

}  // namespace

LineMonitor::LineMonitor(const AnchorOptions& config, const Registry& reg, BrokerAdmin& admin,
                         Guards& guards, EventLog& events, const DocPublisher& publisher,
                         Strand& strand, Clock& clock, Hooks hooks)
    : config_(config),
      reg_(reg),
      admin_(admin),
      guards_(guards),
      events_(events),
      publisher_(publisher),
      strand_(strand),
      clock_(clock),
      hooks_(std::move(hooks)) {}

void LineMonitor::onAnchorConnected() {
  for (auto& [line, last] : heartbeats_) last = clock_.nowMs();
}

bool LineMonitor::bridgeUp(const std::string& line) const {
  auto up = bridges_up_.find("bridge-" + line);
  if (up == bridges_up_.end()) up = bridges_up_.find(line);
  return up != bridges_up_.end() && up->second;
}

void LineMonitor::releaseNode(const std::string& node) {
  // An agent of a line broker keeps its identity there (made with tools/dynsec.py on the
  // line); it loses every group read right.
  if (std::string line = lineOfNode(node); !line.empty()) {
    admin_.syncLineNodeGroups(line, node, {});
    node_lines_.erase(node);
  }
}

void LineMonitor::onBridgeState(const std::string& topic, const std::string& payload) {
  if (topic.size() <= kConnectionPrefix.size() + kStateSuffix.size() ||
      topic.compare(0, kConnectionPrefix.size(), kConnectionPrefix) != 0 ||
      topic.compare(topic.size() - kStateSuffix.size(), kStateSuffix.size(), kStateSuffix) != 0) {
    return;
  }
  std::string bridge = topic.substr(kConnectionPrefix.size(),
                                    topic.size() - kConnectionPrefix.size() - kStateSuffix.size());
  if (bridge.find('/') != std::string::npos) return;
  if (payload != "0" && payload != "1") {
    guards_.logMalformed("bridge notification", topic, Status::invalidArgument("expected 0 or 1"));
    return;
  }
  bool up = payload == "1";
  auto [it, inserted] = bridges_up_.try_emplace(bridge, up);
  if (!inserted && it->second == up) return;
  it->second = up;
  spdlog::info("bridge {} {}", bridge, up ? "connected" : "down");
  EventRecord event;
  event.ts = clock_.nowMs();
  event.source = "anchor";
  event.kind = up ? "bridge_up" : "bridge_down";
  event.message = "bridge " + bridge + (up ? " connected" : " down");
  events_.append(std::move(event));
  hooks_.flush_soon();
  std::vector<std::string> nodes;
  for (const auto& [name, record] : reg_.nodes()) nodes.push_back(name);
  for (const auto& name : nodes) {
    // Heartbeats did not cross a down bridge: the nodes behind it get a whole deadline again.
    bool behind = up && bridgeOf(name) == bridge;
    hooks_.recheck(name, behind);
    // A connected bridge carries control commands again: make the group rights of its
    // agents on the line broker match the registry (reads roles, sends only differences).
    if (behind) syncLineAcls(name);
  }
  // The first connection seen: the whole line's identities against the registry (once per
  // process, identities.cpp), after the rounds above (one round per line at a time).
  if (up) hooks_.line_connected(lineOf(bridge));
}

std::string LineMonitor::bridgeOf(const std::string& node) const {
  const NodeRecord* record = reg_.findNode(node);
  if (!record || !record->info.is_object()) return {};
  auto field = record->info.find("broker");
  if (field == record->info.end() || !field->is_string()) return {};
  const std::string broker = field->get<std::string>();
  // Configured bridges first (their URLs are exact), then every bridge the site has
  // announced, matched by host name.
  for (const auto& [bridge, urls] : config_.bridges) {
    for (const auto& url : urls) {
      if (url != broker) continue;
      // The name as the site announces it: as configured, or with the bridge- prefix.
      if (bridges_up_.count(bridge) || bridge.rfind("bridge-", 0) == 0) return bridge;
      return bridges_up_.count("bridge-" + bridge) ? "bridge-" + bridge : bridge;
    }
  }
  const std::string host = brokerHost(broker);
  for (const auto& [bridge, up] : bridges_up_) {
    const std::string line = lineOf(bridge);
    if (config_.bridges.count(bridge) || config_.bridges.count(line)) continue;
    if (!line.empty() && (host == line || host.rfind(line + ".", 0) == 0)) return bridge;
  }
  return {};
}

std::string LineMonitor::unreachableReason(const std::string& node) const {
  std::string bridge = bridgeOf(node);
  if (bridge.empty()) return {};
  auto it = bridges_up_.find(bridge);
  if (it != bridges_up_.end() && !it->second) return "bridge " + bridge + " down";
  if (silent_lines_.count(lineOf(bridge))) {
    return fmt::format("bridge {} silent (no line heartbeat for {} s)", bridge,
                       config_.line_heartbeat_timeout.count() / 1000.0);
  }
  return {};
}

void LineMonitor::recheckLine(const std::string& line) {
  std::vector<std::string> nodes;
  for (const auto& [name, record] : reg_.nodes()) {
    if (lineOfNode(name) == line) nodes.push_back(name);
  }
  // Silent or back: heartbeats did not cross, their deadlines start again.
  for (const auto& name : nodes) hooks_.recheck(name, true);
}

// Heartbeats (docs/levels.md "Silent bridges"): the line broker's $SYS/broker/uptime crosses
// the bridge every 2 s, so a link that goes silent (no FIN: a pulled cable, a frozen broker)
// is noticed after line_heartbeat_timeout instead of Mosquitto's coarse 1.5-2.5 x bridge
// keep-alive. The bridge notification stays authoritative for "down"; this only adds
// "silent", and only for lines that send heartbeats.
void LineMonitor::onLineHeartbeat(const std::string& line) {
  if (config_.line_heartbeat_timeout.count() <= 0) return;
  heartbeats_[line] = clock_.nowMs();
  if (silent_lines_.erase(line)) {
    spdlog::info("line {}: heartbeat again", line);
    EventRecord event;
    event.ts = clock_.nowMs();
    event.source = "anchor";
    event.kind = "line_heartbeat";
    event.message = "line " + line + " heartbeat again";
    events_.append(std::move(event));
    hooks_.flush_soon();
    recheckLine(line);
  }
  scheduleHeartbeatCheck();
}

void LineMonitor::scheduleHeartbeatCheck() {
  if (heartbeat_check_scheduled_ || heartbeats_.empty()) return;
  heartbeat_check_scheduled_ = true;
  std::weak_ptr<bool> alive = alive_;
  auto every = std::max(std::chrono::milliseconds(100), config_.line_heartbeat_timeout / 10);
  strand_.postDelayed(every, [this, alive] {
    if (alive.expired()) return;
    heartbeat_check_scheduled_ = false;
    checkHeartbeats();
    scheduleHeartbeatCheck();
  });
}

void LineMonitor::checkHeartbeats() {
  // While the anchor itself is cut off it learns nothing; onConnected restarts the clocks.
  if (!publisher_.connected()) return;
  const int64_t now = clock_.nowMs();
  for (const auto& [line, last] : heartbeats_) {
    if (now - last <= config_.line_heartbeat_timeout.count()) continue;
    if (!silent_lines_.insert(line).second) continue;
    spdlog::warn("line {}: no heartbeat for {} ms: its nodes are Unreachable", line, now - last);
    EventRecord event;
    event.ts = now;
    event.source = "anchor";
    event.kind = "line_silent";
    event.message = fmt::format("line {} silent: no heartbeat for {} ms", line, now - last);
    events_.append(std::move(event));
    hooks_.flush_soon();
    recheckLine(line);
  }
}

void LineMonitor::syncLineAcls(const std::string& node) {
  const NodeRecord* record = reg_.findNode(node);
  std::string line = record ? lineOf(bridgeOf(node)) : std::string();
  // A node that moved away from a line loses its identity there (it lives only on the broker
  // it connects through); a move while the anchor was down is not seen here.
  if (auto known = node_lines_.find(node);
      record && known != node_lines_.end() && known->second != line) {
    admin_.removeLineNode(known->second, node);
    guards_.count("line_identity_removed");
  }
  if (line.empty()) {
    node_lines_.erase(node);
    return;
  }
  std::set<std::string> groups;
  if (record->registration != Registration::kPending)
    groups = reg_.relations().effectiveGroups(node);
  admin_.syncLineNodeGroups(line, node, groups);
  node_lines_[node] = line;
}

bool LineMonitor::onLine(const std::string& node) const { return !bridgeOf(node).empty(); }

std::string LineMonitor::lineOfNode(const std::string& node) const {
  return lineOf(bridgeOf(node));
}

void LineMonitor::checkLine(const std::string& node) {
  std::string line = lineOfNode(node);
  auto known = node_lines_.find(node);
  if (line.empty() ? known != node_lines_.end()
                   : known == node_lines_.end() || known->second != line) {
    syncLineAcls(node);
  }
}

}  // namespace pharos::anchor
