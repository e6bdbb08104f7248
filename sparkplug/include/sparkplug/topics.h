// The Sparkplug B topic namespace (Eclipse Sparkplug 3.0, section 4.1):
//   spBv1.0/{group_id}/{NBIRTH|NDEATH|NDATA|NCMD}/{edge_node_id}
//   spBv1.0/{group_id}/{DBIRTH|DDEATH|DDATA|DCMD}/{edge_node_id}/{device_id}
//   spBv1.0/STATE/{host_id}
// Builders assume valid ids (checkId first); the parser validates. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "pharos/status.h"

namespace pharos::sparkplug {

inline constexpr std::string_view kNamespace = "spBv1.0";

enum class MessageType { kNBirth, kNDeath, kNData, kNCmd, kDBirth, kDDeath, kDData, kDCmd, kState };
const char* messageTypeName(MessageType type);
bool isDeviceMessage(MessageType type);

// A Sparkplug id (group, edge node, device, host): non-empty, at most 128 bytes, UTF-8
// without the MQTT special characters '+', '#' and '/'.
Status checkId(std::string_view id, std::string_view what);

std::string nodeTopic(std::string_view group, MessageType type, std::string_view edge);
std::string deviceTopic(std::string_view group, MessageType type, std::string_view edge,
                        std::string_view device);
std::string stateTopic(std::string_view host);

struct Topic {
  MessageType type = MessageType::kState;
  std::string group;
  std::string edge;
  std::string device;  // device messages only
  std::string host;    // STATE only
};
Result<Topic> parseTopic(std::string_view topic);

}  // namespace pharos::sparkplug
