// The edge node's sessions, births, deaths and data (edge_node.h). Host input (STATE, NCMD,
// DCMD) is handled in edge_node_commands.cpp.
#include "sparkplug/edge_node.h"

#include "pharos/log.h"

namespace pharos::sparkplug {

EdgeNode::EdgeNode(EdgeConfig config, const Clock& clock, CommandSink* commands)
    : config_(std::move(config)), clock_(clock), commands_(commands) {}

std::vector<std::pair<std::string, int>> EdgeNode::subscriptions() const {
  std::vector<std::pair<std::string, int>> out;
  for (auto& filter : Fleet::subscriptions()) out.emplace_back(filter, 1);
  out.emplace_back(nodeTopic(config_.group_id, MessageType::kNCmd, config_.edge_node_id), 1);
  out.emplace_back(deviceTopic(config_.group_id, MessageType::kDCmd, config_.edge_node_id, "+"), 1);
  if (!config_.primary_host_id.empty()) out.emplace_back(stateTopic(config_.primary_host_id), 1);
  return out;
}

MqttMessage EdgeNode::deathMessage(uint64_t bdseq) const {
  Payload death;
  death.timestamp = static_cast<uint64_t>(clock_.nowMs());
  death.metrics.push_back(
      Metric{kBdSeq, DataType::kInt64, static_cast<int64_t>(bdseq), death.timestamp, true});
  MqttMessage m;
  m.topic = nodeTopic(config_.group_id, MessageType::kNDeath, config_.edge_node_id);
  m.payload = encodePayload(death);
  m.qos = 1;
  m.retained = false;
  return m;
}

void EdgeNode::sessionStarted(MqttLink* link, uint64_t bdseq) {
  std::lock_guard lock(mu_);
  link_ = link;
  bdseq_ = bdseq;
  phase_ = Phase::kSubscribing;
  reconnect_ = false;
  host_online_ = false;
  host_state_ts_ = -1;
  for (auto& [node, device] : devices_) device.born = false;
}

void EdgeNode::subscribed() {
  std::lock_guard lock(mu_);
  if (phase_ != Phase::kSubscribing) return;
  phase_ = Phase::kSettling;
  settle_start_ = clock_.steadyNow();
  last_input_ = settle_start_;
  if (!config_.primary_host_id.empty()) {
    spdlog::info("waiting for primary host '{}' to be online before the births",
                 config_.primary_host_id);
  }
}

void EdgeNode::sessionEnded() {
  std::lock_guard lock(mu_);
  link_ = nullptr;
  phase_ = Phase::kDisconnected;
  for (auto& [node, device] : devices_) device.born = false;
  dirty_.clear();
}

bool EdgeNode::reconnectRequested() const {
  std::lock_guard lock(mu_);
  return reconnect_;
}

bool EdgeNode::online() const {
  std::lock_guard lock(mu_);
  return phase_ == Phase::kOnline;
}

EdgeStats EdgeNode::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void EdgeNode::onMessage(const MqttMessage& message) {
  std::lock_guard lock(mu_);
  if (message.topic.rfind(kNamespace, 0) == 0) {
    handleSparkplug(message);
    return;
  }
  auto change = fleet_.apply(message);
  if (!change) {
    refuse(fmt::format("ignored {}: {}", message.topic, change.status().message()));
    return;
  }
  // Settling waits for the retained documents a subscription brings, not for the periodic
  // metrics that never stop.
  if (message.retained) last_input_ = clock_.steadyNow();
  if (change->kind != FleetChange::Kind::kDevice) return;
  if (change->removed) {
    flushDevice(change->node);
    devices_.erase(change->node);
    return;
  }
  if (change->health_changed && phase_ == Phase::kOnline) {
    flushDevice(change->node);  // DDEATH / DBIRTH at once, not at the next tick
    return;
  }
  dirty_.insert(change->node);
}

void EdgeNode::tick() {
  std::lock_guard lock(mu_);
  if (phase_ == Phase::kSettling) maybeBirth();
  if (phase_ != Phase::kOnline) return;
  flushNode();
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (const auto& node : dirty) flushDevice(node);
}

void EdgeNode::maybeBirth() {
  if (!config_.primary_host_id.empty() && !host_online_) return;
  auto now = clock_.steadyNow();
  if (now - last_input_ < config_.settle && now - settle_start_ < config_.settle_max) return;
  publishBirths();
}

uint64_t EdgeNode::nextSeq() {
  uint64_t seq = seq_;
  seq_ = (seq_ + 1) % 256;
  return seq;
}

void EdgeNode::publish(const std::string& topic, Payload payload, bool with_seq) {
  if (link_ == nullptr) return;
  payload.timestamp = static_cast<uint64_t>(clock_.nowMs());
  if (with_seq) payload.seq = nextSeq();
  MqttMessage m;
  m.topic = topic;
  m.payload = encodePayload(payload);
  m.qos = 0;  // Sparkplug: births, deaths and data are QoS 0, not retained
  m.retained = false;
  if (Status s = link_->publish(m); !s.isOk()) {
    spdlog::warn("publish {}: {}", topic, s.message());
  }
}

void EdgeNode::publishBirths() {
  const auto now = static_cast<uint64_t>(clock_.nowMs());
  seq_ = 0;  // NBIRTH carries seq 0
  node_published_ = nodeTree(fleet_.counts());
  Payload nbirth;
  nbirth.metrics.push_back(
      Metric{kBdSeq, DataType::kInt64, static_cast<int64_t>(bdseq_), now, true});
  for (auto& m : allMetrics(node_published_, now)) nbirth.metrics.push_back(std::move(m));
  publish(nodeTopic(config_.group_id, MessageType::kNBirth, config_.edge_node_id),
          std::move(nbirth));
  ++stats_.nbirths;
  phase_ = Phase::kOnline;
  for (auto& [node, device] : devices_) device.born = false;
  dirty_.clear();
  const uint64_t before = stats_.dbirths;
  for (const auto& [node, facts] : fleet_.devices()) {
    if (facts.ready()) flushDevice(node);
  }
  spdlog::info("online as {}/{} (bdSeq {}): {} devices born", config_.group_id,
               config_.edge_node_id, bdseq_, stats_.dbirths - before);
}

void EdgeNode::flushDevice(const std::string& node) {
  if (phase_ != Phase::kOnline) return;
  const DeviceFacts* facts = fleet_.device(node);
  Device& device = devices_[node];
  const auto topic = [&](MessageType type) {
    return deviceTopic(config_.group_id, type, config_.edge_node_id, node);
  };
  if (facts == nullptr || !facts->ready()) {
    if (device.born) {
      publish(topic(MessageType::kDDeath), Payload{});
      ++stats_.ddeaths;
      device.born = false;
      device.published.clear();
    }
    return;
  }
  const auto now = static_cast<uint64_t>(clock_.nowMs());
  MetricTree tree = deviceTree(*facts, config_.commands);
  if (!device.born || !sameShape(device.published, tree)) {
    Payload birth;
    birth.metrics = allMetrics(tree, now);
    publish(topic(MessageType::kDBirth), std::move(birth));
    ++stats_.dbirths;
    device.born = true;
    device.published = std::move(tree);
    return;
  }
  Payload data;
  data.metrics = changedMetrics(device.published, tree, now);
  if (data.metrics.empty()) return;
  stats_.metrics_out += data.metrics.size();
  publish(topic(MessageType::kDData), std::move(data));
  ++stats_.ddata;
  device.published = std::move(tree);
}

void EdgeNode::flushNode() {
  MetricTree tree = nodeTree(fleet_.counts());
  Payload data;
  data.metrics = changedMetrics(node_published_, tree, static_cast<uint64_t>(clock_.nowMs()));
  if (data.metrics.empty()) return;
  stats_.metrics_out += data.metrics.size();
  publish(nodeTopic(config_.group_id, MessageType::kNData, config_.edge_node_id), std::move(data));
  ++stats_.ndata;
  node_published_ = std::move(tree);
}

void EdgeNode::refuse(const std::string& what) {
  ++stats_.refused;
  spdlog::warn("{}", what);
}

}  // namespace pharos::sparkplug
