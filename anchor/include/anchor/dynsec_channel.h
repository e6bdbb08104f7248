// DynsecChannel: Mosquitto dynamic-security commands over the anchor's MQTT link, and the
// matching of the plugin's answers to them. A command message is {"commands": [...]} on a
// control topic ($CONTROL/dynamic-security/v1 at the site, topics::lineControl(line) for a
// line broker behind its bridge); the plugin answers on .../response with {"responses":
// [{command, error?, data?, correlationData}]}. Every command carries correlationData
// "<message id>:<index>", so answers find their request whichever broker sent them. The
// encoding of the commands themselves (which ACLs, which roles) is the callers'.
//
// Threading: every method and callback runs on the anchor's strand (the anchor routes
// control answers to onMessage on that strand).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pharos/executor.h"
#include "pharos/json.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos::anchor {

// The dynamic-security control topics of the site broker.
inline constexpr const char* kDynsecTopic = "$CONTROL/dynamic-security/v1";
inline constexpr const char* kDynsecResponseTopic = "$CONTROL/dynamic-security/v1/response";

// A dynamic-security ACL object {acltype, topic, priority, allow}.
Json dynsecAcl(const char* type, const std::string& topic, bool allow = true, int priority = 0);
// Appends the three read ACLs (subscribeLiteral, publishClientReceive, unsubscribeLiteral) of
// `topic` for role `role` as addRoleACL or removeRoleACL commands.
void appendReadAclCommands(Json& commands, const char* command, const std::string& role,
                           const std::string& topic);
// data.<key> of a list or get answer (an array), or nullptr.
const Json* dynsecDataList(const Json& response, const char* key);
// The `field` of each object in object[list] ({"roles": [{"rolename": ...}]}).
std::set<std::string> dynsecNames(const Json& object, const char* list, const char* field);

class DynsecChannel {
 public:
  using Done = std::function<void(Status)>;
  using OnResponse = std::function<void(const Json&)>;

  // `link` and `strand` must outlive the channel.
  DynsecChannel(MqttLink& link, Executor& strand, std::chrono::milliseconds timeout,
                size_t max_commands_per_message)
      : link_(link),
        strand_(strand),
        timeout_(timeout),
        max_commands_per_message_(max_commands_per_message) {}

  // Publishes `commands` (a JSON array) as one message on `topic`. `done` gets ok once every
  // command is answered, the first error of a command whose index is in `checked` (other
  // errors are harmless: a duplicate ACL, a missing client), or unavailable when the broker
  // does not answer within the timeout. `on_response` sees every answer.
  void send(Json commands, std::set<int> checked, Done done, OnResponse on_response = nullptr,
            const std::string& topic = kDynsecTopic);
  // `commands` cut into arrays of at most max_commands_per_message each.
  std::vector<Json> batches(std::vector<Json> commands) const;
  size_t maxCommandsPerMessage() const { return max_commands_per_message_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // Topic filters of the answers (the site's and every line's).
  std::vector<std::string> subscriptions() const;
  // An answer message; anything else is ignored.
  void onMessage(const MqttMessage& message);

 private:
  struct Pending {
    size_t remaining = 0;
    std::set<int> checked;  // indexes whose errors fail the request
    Status status;
    Done done;
    OnResponse on_response;
    uint64_t timer = 0;
  };

  MqttLink& link_;
  Executor& strand_;
  std::chrono::milliseconds timeout_;
  size_t max_commands_per_message_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Pending> pending_;
};

}  // namespace pharos::anchor
