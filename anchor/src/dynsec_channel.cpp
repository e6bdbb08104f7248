// Dynamic-security command messages and the matching of their answers (dynsec_channel.h).
// Runs on the anchor's strand.
#include "anchor/dynsec_channel.h"

#include <fmt/format.h>

#include <cstdlib>

#include "pharos/log.h"
#include "pharos/topics.h"

namespace pharos::anchor {

Json dynsecAcl(const char* type, const std::string& topic, bool allow, int priority) {
  return Json{{"acltype", type}, {"topic", topic}, {"priority", priority}, {"allow", allow}};
}

void appendReadAclCommands(Json& commands, const char* command, const std::string& role,
                           const std::string& topic) {
  for (const char* type : {"subscribeLiteral", "publishClientReceive", "unsubscribeLiteral"}) {
    Json c = std::string_view(command) == "addRoleACL" ? dynsecAcl(type, topic)
                                                       : Json{{"acltype", type}, {"topic", topic}};
    c["command"] = command;
    c["rolename"] = role;
    commands.push_back(std::move(c));
  }
}

const Json* dynsecDataList(const Json& response, const char* key) {
  if (!response.contains("data") || !response["data"].is_object()) return nullptr;
  const Json& data = response["data"];
  if (!data.contains(key) || !data[key].is_array()) return nullptr;
  return &data[key];
}

std::set<std::string> dynsecNames(const Json& object, const char* list, const char* field) {
  std::set<std::string> out;
  if (!object.contains(list) || !object[list].is_array()) return out;
  for (const auto& item : object[list]) {
    if (item.is_object() && item.contains(field) && item[field].is_string()) {
      out.insert(item[field].get<std::string>());
    }
  }
  return out;
}

void DynsecChannel::send(Json commands, std::set<int> checked, Done done, OnResponse on_response,
                         const std::string& topic) {
  uint64_t id = next_id_++;
  for (size_t i = 0; i < commands.size(); ++i) {
    commands[i]["correlationData"] = fmt::format("{}:{}", id, i);
  }
  MqttMessage msg;
  msg.topic = topic;
  msg.payload = dumpJson(Json{{"commands", commands}});
  msg.qos = 1;
  Status status = link_.publish(msg);
  if (!status.isOk()) {
    if (done) done(Status::unavailable("broker admin: " + status.message()));
    return;
  }
  Pending p;
  p.remaining = commands.size();
  p.checked = std::move(checked);
  p.done = std::move(done);
  p.on_response = std::move(on_response);
  p.timer = strand_.postDelayed(timeout_, [this, id] {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Done d = std::move(it->second.done);
    pending_.erase(it);
    if (d) d(Status::unavailable("broker did not answer the dynamic-security command"));
  });
  pending_.emplace(id, std::move(p));
}

std::vector<Json> DynsecChannel::batches(std::vector<Json> commands) const {
  std::vector<Json> out;
  for (size_t i = 0; i < commands.size(); i += max_commands_per_message_) {
    Json batch = Json::array();
    for (size_t j = i; j < std::min(commands.size(), i + max_commands_per_message_); ++j) {
      batch.push_back(std::move(commands[j]));
    }
    out.push_back(std::move(batch));
  }
  return out;
}

std::vector<std::string> DynsecChannel::subscriptions() const {
  return {kDynsecResponseTopic, topics::allLineControlResponses()};
}

void DynsecChannel::onMessage(const MqttMessage& message) {
  if (message.topic != kDynsecResponseTopic &&
      topics::lineOfControlResponse(message.topic).empty()) {
    return;
  }
  auto json = parseJson(message.payload, size_t{4} << 20);
  if (!json || !json->is_object() || !json->contains("responses") ||
      !(*json)["responses"].is_array()) {
    spdlog::warn("dynamic-security: malformed response dropped");
    return;
  }
  for (const auto& r : (*json)["responses"]) {
    if (!r.is_object() || !r.contains("correlationData") || !r["correlationData"].is_string()) {
      continue;
    }
    std::string corr = r["correlationData"].get<std::string>();
    auto colon = corr.find(':');
    if (colon == std::string::npos) continue;
    uint64_t id = std::strtoull(corr.substr(0, colon).c_str(), nullptr, 10);
    int index = std::atoi(corr.c_str() + colon + 1);
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    Pending& p = it->second;
    std::string command = r.value("command", "");
    if (p.on_response) p.on_response(r);
    if (r.contains("error") && r["error"].is_string() && p.checked.count(index) &&
        p.status.isOk()) {
      p.status =
          Status::unavailable(fmt::format("broker {}: {}", command, r["error"].get<std::string>()));
    }
    if (--p.remaining > 0) continue;
    Done done = std::move(p.done);
    Status status = p.status;
    strand_.cancel(p.timer);
    pending_.erase(it);
    if (done) done(status);
  }
}

}  // namespace pharos::anchor
