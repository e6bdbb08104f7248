// What the agent publishes under its own nodes/{node}/ subtree (DESIGN.md section 2, the
// topic table): status (retained), info (retained), state (retained), events (buffered while
// offline, at most `max_buffered_events`, and sent on the next connection), heartbeats and
// metrics (QoS 0), and the answers to commands on the requester's response topic. It holds no
// document or reconciler state: callers hand it the message; it picks the topic, QoS and
// retain flag the contract gives each kind.
//
// Threading: the agent's strand, except heartbeat() and metrics(), which may run on any
// thread once setLink() has run (the link itself is thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pharos/clock.h"
#include "pharos/json.h"
#include "pharos/messages.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"
#include "pharos/topics.h"

namespace pharos::agent {

class NodePublisher {
 public:
  NodePublisher(std::string node_id, const Clock& clock, size_t max_buffered_events)
      : node_id_(std::move(node_id)), clock_(clock), max_buffered_(max_buffered_events) {}

  // The link everything goes out on (null until the agent makes one: nothing is sent).
  void setLink(MqttLink* link) { link_ = link; }
  MqttLink* link() const { return link_; }
  // The link's connection state. Events wait for a connection; flushEvents() sends them.
  void setConnected(bool connected) { connected_ = connected; }
  bool online() const { return link_ != nullptr && connected_; }

  void status(bool ready, int64_t session, const std::string& reason);
  void info(const NodeInfo& info);
  // The state body as encoded; sent only online. Its status is the link's.
  Status state(const std::string& body);
  // `kind` with `reason` and `message` (and the app it concerns, "" for the node), now.
  void emit(const std::string& kind, const std::string& app, const std::string& reason,
            const std::string& message = "");
  void event(NodeEvent event);
  // Sends the events buffered while offline (call when the link connects).
  void flushEvents();
  void reply(const std::string& topic, const std::string& correlation_data, const Json& body);
  void heartbeat(int64_t session, int64_t keep_alive_s);
  void metrics(const NodeMetrics& metrics);

  size_t bufferedEvents() const { return buffered_events_.size(); }

 private:
  Status send(topics::NodeTopic kind, std::string payload, int qos, bool retained);

  const std::string node_id_;
  const Clock& clock_;
  const size_t max_buffered_;
  MqttLink* link_ = nullptr;
  bool connected_ = false;
  std::vector<NodeEvent> buffered_events_;
};

}  // namespace pharos::agent
