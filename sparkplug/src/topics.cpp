// Sparkplug topic builders and parser (topics.h).
#include "sparkplug/topics.h"

#include <array>
#include <vector>

namespace pharos::sparkplug {
namespace {

struct TypeName {
  MessageType type;
  std::string_view name;
};
constexpr std::array<TypeName, 9> kTypes{{{MessageType::kNBirth, "NBIRTH"},
                                          {MessageType::kNDeath, "NDEATH"},
                                          {MessageType::kNData, "NDATA"},
                                          {MessageType::kNCmd, "NCMD"},
                                          {MessageType::kDBirth, "DBIRTH"},
                                          {MessageType::kDDeath, "DDEATH"},
                                          {MessageType::kDData, "DDATA"},
                                          {MessageType::kDCmd, "DCMD"},
                                          {MessageType::kState, "STATE"}}};

std::vector<std::string_view> split(std::string_view topic) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = topic.find('/', start);
    out.push_back(topic.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace

const char* messageTypeName(MessageType type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return t.name.data();
  }
  return "?";
}

bool isDeviceMessage(MessageType type) {
  return type == MessageType::kDBirth || type == MessageType::kDDeath ||
         type == MessageType::kDData || type == MessageType::kDCmd;
}

Status checkId(std::string_view id, std::string_view what) {
  if (id.empty() || id.size() > 128) {
    return Status::invalidArgument(std::string(what) + ": must be 1 to 128 characters");
  }
  for (char c : id) {
    if (c == '+' || c == '#' || c == '/' || static_cast<unsigned char>(c) < 0x20) {
      return Status::invalidArgument(std::string(what) + " '" + std::string(id) +
                                     "': must not contain '+', '#', '/' or control characters");
    }
  }
  return Status::ok();
}

std::string nodeTopic(std::string_view group, MessageType type, std::string_view edge) {
  std::string out(kNamespace);
  out.append("/").append(group).append("/").append(messageTypeName(type)).append("/");
  out.append(edge);
  return out;
}

std::string deviceTopic(std::string_view group, MessageType type, std::string_view edge,
                        std::string_view device) {
  return nodeTopic(group, type, edge).append("/").append(device);
}

std::string stateTopic(std::string_view host) {
  return std::string(kNamespace).append("/STATE/").append(host);
}

Result<Topic> parseTopic(std::string_view topic) {
  auto parts = split(topic);
  auto bad = [&](const char* why) {
    return Status::invalidArgument("topic '" + std::string(topic.substr(0, 200)) + "': " + why);
  };
  if (parts.size() < 3 || parts[0] != kNamespace) return bad("not a Sparkplug B topic");
  Topic out;
  if (parts[1] == "STATE") {
    if (parts.size() != 3 || !checkId(parts[2], "host id").isOk()) return bad("bad STATE topic");
    out.host = std::string(parts[2]);
    return out;
  }
  if (parts.size() != 4 && parts.size() != 5) return bad("wrong number of levels");
  bool found = false;
  for (const auto& t : kTypes) {
    if (t.name == parts[2] && t.type != MessageType::kState) {
      out.type = t.type;
      found = true;
    }
  }
  if (!found) return bad("unknown message type");
  if (isDeviceMessage(out.type) != (parts.size() == 5)) return bad("device id mismatch");
  for (size_t i = 1; i < parts.size(); ++i) {
    if (i == 2) continue;
    if (!checkId(parts[i], "id").isOk()) return bad("invalid id");
  }
  out.group = std::string(parts[1]);
  out.edge = std::string(parts[3]);
  if (parts.size() == 5) out.device = std::string(parts[4]);
  return out;
}

}  // namespace pharos::sparkplug
