// What Sparkplug hosts send the edge node (edge_node.h): the primary host's STATE, NCMD
// (Node Control/Rebirth) and DCMD (app control). Everything here is untrusted input: a bad
// message is logged with what is wrong and changes nothing.
#include <algorithm>

#include "pharos/json.h"
#include "pharos/log.h"
#include "sparkplug/edge_node.h"

namespace pharos::sparkplug {
namespace {

constexpr size_t kMaxStateBytes = 1024;
constexpr size_t kRecentCommands = 256;

bool isTrue(const Metric& m) {
  const bool* b = std::get_if<bool>(&m.value);
  return m.datatype == DataType::kBoolean && m.value_matches_type && b != nullptr && *b;
}

std::string quoted(const std::string& name) {
  return "'" + (name.size() > 100 ? name.substr(0, 100) + "..." : name) + "'";
}

}  // namespace

void EdgeNode::handleSparkplug(const MqttMessage& message) {
  auto topic = parseTopic(message.topic);
  if (!topic) {
    refuse(fmt::format("ignored {}", topic.status().message()));
    return;
  }
  if (topic->type == MessageType::kState) {
    handleState(topic->host, message.payload);
  } else if (topic->type == MessageType::kNCmd && topic->edge == config_.edge_node_id &&
             topic->group == config_.group_id) {
    handleNodeCommand(message.payload);
  } else if (topic->type == MessageType::kDCmd && topic->edge == config_.edge_node_id &&
             topic->group == config_.group_id) {
    handleDeviceCommand(topic->device, message);
  } else {
    refuse(fmt::format("ignored {}: not addressed to this edge node", message.topic));
  }
}

void EdgeNode::handleState(const std::string& host, const std::string& payload) {
  if (host != config_.primary_host_id) return;
  if (payload.size() > kMaxStateBytes) {
    refuse(fmt::format("STATE of host '{}' refused: {} bytes", host, payload.size()));
    return;
  }
  auto json = parseJson(payload);
  if (!json || !json->is_object() || !json->contains("online") || !(*json)["online"].is_boolean() ||
      (json->contains("timestamp") && !(*json)["timestamp"].is_number_integer())) {
    refuse(
        fmt::format("STATE of host '{}' refused: expected {{\"online\": bool, "
                    "\"timestamp\": ms}}",
                    host));
    return;
  }
  const bool online = (*json)["online"].get<bool>();
  const int64_t ts = json->value("timestamp", int64_t{0});
  if (ts < host_state_ts_) {
    spdlog::info("STATE of host '{}' ignored: timestamp {} is older than {}", host, ts,
                 host_state_ts_);
    return;
  }
  host_state_ts_ = ts;
  if (online == host_online_) return;
  host_online_ = online;
  spdlog::info("primary host '{}' is {}", host, online ? "online" : "offline");
  if (online) {
    if (phase_ == Phase::kSettling) maybeBirth();
  } else if (phase_ == Phase::kOnline) {
    // Sparkplug 3.0: the edge node disconnects (NDEATH) and waits for the host again.
    reconnect_ = true;
  }
}

bool EdgeNode::replayed(const std::string& topic, const Payload& payload) {
  // A command is identified by its topic, timestamp and seq; hosts stamp every command, so
  // the same triple twice is a replay (a retained or re-sent copy), not a new request.
  if (payload.timestamp == 0) return false;
  std::string key = fmt::format("{}|{}|{}", topic, payload.timestamp,
                                payload.seq ? static_cast<int64_t>(*payload.seq) : -1);
  if (std::find(recent_commands_.begin(), recent_commands_.end(), key) != recent_commands_.end()) {
    return true;
  }
  recent_commands_.push_back(std::move(key));
  if (recent_commands_.size() > kRecentCommands) recent_commands_.pop_front();
  return false;
}

void EdgeNode::handleNodeCommand(const std::string& bytes) {
  auto payload = decodePayload(bytes);
  if (!payload) {
    refuse(fmt::format("NCMD refused: {}", payload.status().message()));
    return;
  }
  if (replayed(nodeTopic(config_.group_id, MessageType::kNCmd, config_.edge_node_id), *payload)) {
    refuse("NCMD refused: replayed (same timestamp and seq as an earlier command)");
    return;
  }
  bool rebirth = false;
  for (const auto& m : payload->metrics) {
    if (m.name != kRebirth) {
      refuse(fmt::format("NCMD refused: unknown metric {}", quoted(m.name)));
      return;
    }
    if (!isTrue(m)) {
      refuse(fmt::format("NCMD refused: {} must be Boolean true, got {} {}", kRebirth,
                         dataTypeName(m.datatype), describe(m.value)));
      return;
    }
    rebirth = true;
  }
  if (!rebirth) {
    refuse("NCMD refused: no metric");
    return;
  }
  if (phase_ != Phase::kOnline) {
    spdlog::info("NCMD rebirth: not online yet, the births follow when they are due");
    return;
  }
  spdlog::info("NCMD rebirth: publishing every birth again");
  publishBirths();
}

void EdgeNode::handleDeviceCommand(const std::string& device, const MqttMessage& message) {
  auto payload = decodePayload(message.payload);
  if (!payload) {
    refuse(fmt::format("DCMD for {} refused: {}", device, payload.status().message()));
    return;
  }
  if (replayed(message.topic, *payload)) {
    refuse(
        fmt::format("DCMD for {} refused: replayed (same timestamp and seq as an earlier "
                    "command)",
                    device));
    return;
  }
  if (!config_.commands) {
    refuse(fmt::format("DCMD for {} refused: commands are off (commands = false)", device));
    return;
  }
  auto it = devices_.find(device);
  const DeviceFacts* facts = fleet_.device(device);
  if (it == devices_.end() || !it->second.born || facts == nullptr) {
    refuse(fmt::format("DCMD refused: device '{}' is not born (unknown or not Ready)", device));
    return;
  }
  std::vector<AppCommand> commands;
  for (const auto& m : payload->metrics) {
    auto control = parseAppControl(m.name);
    if (!control || it->second.published.count(m.name) == 0) {
      refuse(fmt::format("DCMD for {} refused: unknown metric {}", device, quoted(m.name)));
      return;
    }
    if (!isTrue(m)) {
      refuse(fmt::format("DCMD for {} refused: {} must be Boolean true, got {} {}", device,
                         quoted(m.name), dataTypeName(m.datatype), describe(m.value)));
      return;
    }
    commands.push_back(AppCommand{device, control->app, control->operation});
  }
  if (commands.empty()) {
    refuse(fmt::format("DCMD for {} refused: no metric", device));
    return;
  }
  for (const auto& c : commands) {
    spdlog::info("DCMD for {}: {} {} (through the management API)", device, c.operation, c.app);
    ++stats_.commands;
    if (commands_ != nullptr) commands_->submit(c);
  }
}

}  // namespace pharos::sparkplug
