// Health across a bridge (DESIGN.md section 3, docs/levels.md): line brokers bridge to the
// site broker and publish Mosquitto's retained notification "1" / "0" on
// $SYS/broker/connection/<bridge>/state (the "0" is also the bridge's will at the site, so a
// dead line broker or a cut link is seen within 1.5 x the bridge keep-alive). While a bridge
// is down, every node whose info.broker sits behind it is Unreachable; when it returns, the
// node's last accepted status decides again (reports queued on the line arrive after).
// This is the Mosquitto-specific adapter for bridge reachability. Runs on the anchor's strand.
#include "anchor/anchor.h"
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

void Anchor::onBridgeState(const std::string& topic, const std::string& payload) {
  if (topic.size() <= kConnectionPrefix.size() + kStateSuffix.size() ||
      topic.compare(0, kConnectionPrefix.size(), kConnectionPrefix) != 0 ||
      topic.compare(topic.size() - kStateSuffix.size(), kStateSuffix.size(), kStateSuffix) != 0) {
    return;
  }
  std::string bridge = topic.substr(kConnectionPrefix.size(),
                                    topic.size() - kConnectionPrefix.size() - kStateSuffix.size());
  if (bridge.find('/') != std::string::npos) return;
  if (payload != "0" && payload != "1") {
    logMalformed("bridge notification", topic, Status::invalidArgument("expected 0 or 1"));
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
  scheduleFlush();
  std::vector<std::string> nodes;
  for (const auto& [name, record] : reg_.nodes()) nodes.push_back(name);
  for (const auto& name : nodes) applyHealth(name, nullptr);
}

std::string Anchor::unreachableReason(const std::string& node) const {
  const NodeRecord* record = reg_.findNode(node);
  if (!record || !record->info.is_object()) return {};
  auto field = record->info.find("broker");
  if (field == record->info.end() || !field->is_string()) return {};
  const std::string broker = field->get<std::string>();
  for (const auto& [bridge, up] : bridges_up_) {
    if (up) continue;
    bool behind = false;
    const std::string line = lineOf(bridge);
    auto configured = config_.bridges.find(bridge);
    if (configured == config_.bridges.end()) configured = config_.bridges.find(line);
    if (configured != config_.bridges.end()) {
      for (const auto& url : configured->second) behind = behind || url == broker;
    } else {
      std::string host = brokerHost(broker);
      behind = !line.empty() && (host == line || host.rfind(line + ".", 0) == 0);
    }
    if (behind) return "bridge " + bridge + " down";
  }
  return {};
}

}  // namespace pharos::anchor
