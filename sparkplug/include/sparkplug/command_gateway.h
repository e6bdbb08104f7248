// Sends the app commands Sparkplug hosts ask for (DCMD) to the management API, as the
// separate broker identity configured for commands: pharos/v1/api/{user}/{operation} with the
// MQTT 5 Response Topic pharos/v1/replies/{user}/sparkplug-<random> and Correlation Data.
// The anchor authorises, validates and audits each one like any other request; the broker's
// ACL lets that identity publish only app.restart, app.stop and app.start. The answer (or its
// absence) is logged; the edge node publishes nothing for it (the device's DDATA shows the
// effect).
//
// Thread-safe: submit() may be called from any thread and never blocks; replies arrive on
// the link's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "pharos/clock.h"
#include "pharos/mqtt_link.h"
#include "sparkplug/edge_node.h"

namespace pharos::sparkplug {

struct CommandStats {
  uint64_t sent = 0;
  uint64_t accepted = 0;
  uint64_t refused = 0;  // the anchor answered with an error
  uint64_t unanswered = 0;
};

class CommandGateway final : public CommandSink {
 public:
  // `link` is connected by start(); `user` is its broker username.
  CommandGateway(std::unique_ptr<MqttLink> link, std::string user, const Clock& clock,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~CommandGateway() override;

  // Connects and subscribes to the reply topic (the link reconnects by itself afterwards).
  Status start();
  void stop();
  void submit(const AppCommand& command) override;
  // Logs and forgets requests older than the timeout.
  void expire();
  CommandStats stats() const;
  const std::string& replyTopic() const { return reply_topic_; }

 private:
  struct Pending {
    AppCommand command;
    std::chrono::steady_clock::time_point sent;
  };
  void onReply(const MqttMessage& message);

  std::unique_ptr<MqttLink> link_;
  const std::string user_;
  const Clock& clock_;
  const std::chrono::milliseconds timeout_;
  const std::string reply_topic_;

  mutable std::mutex mu_;
  std::map<std::string, Pending> pending_;  // by correlation data
  CommandStats stats_;
};

// 16 random hex digits (reply topic suffixes, correlation data).
std::string randomToken();

}  // namespace pharos::sparkplug
