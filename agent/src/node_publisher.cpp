// The agent's publications under nodes/{node}/ (see node_publisher.h).
#include "agent/node_publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace pharos::agent {

Status NodePublisher::send(topics::NodeTopic kind, std::string payload, int qos, bool retained) {
  if (!link_) return Status::unavailable("no link");
  return link_->publish(
      MqttMessage{topics::node(node_id_, kind), std::move(payload), qos, retained, "", ""});
}

void NodePublisher::status(bool ready, int64_t session, const std::string& reason) {
  if (!link_) return;
  NodeStatus st{ready ? Readiness::kReady : Readiness::kNotReady, session, reason, clock_.nowMs()};
  Status s = send(topics::NodeTopic::kStatus, dumpJson(encode(st)), 1, true);
  if (!s.isOk()) spdlog::warn("publish status: {}", s.message());
}

void NodePublisher::info(const NodeInfo& info) {
  if (!link_) return;
  (void)send(topics::NodeTopic::kInfo, dumpJson(encode(info)), 1, true);
}

Status NodePublisher::state(const std::string& body) {
  if (!online()) return Status::unavailable("offline");
  return send(topics::NodeTopic::kState, body, 1, true);
}

void NodePublisher::emit(const std::string& kind, const std::string& app, const std::string& reason,
                         const std::string& message) {
  NodeEvent e;
  e.kind = kind;
  e.app = app;
  e.reason = reason;
  e.message = message;
  e.ts = clock_.nowMs();
  spdlog::info("event {} app={}: {} {}", kind, app, reason, message);
  event(std::move(e));
}

void NodePublisher::event(NodeEvent event) {
  if (!online()) {
    if (buffered_events_.size() < max_buffered_) buffered_events_.push_back(std::move(event));
    return;
  }
  Status s = send(topics::NodeTopic::kEvents, dumpJson(encode(event)), 1, false);
  if (!s.isOk() && buffered_events_.size() < max_buffered_) {
    buffered_events_.push_back(std::move(event));
  }
}

void NodePublisher::flushEvents() {
  std::vector<NodeEvent> pending;
  pending.swap(buffered_events_);
  for (NodeEvent& e : pending) event(std::move(e));
}

void NodePublisher::reply(const std::string& topic, const std::string& correlation_data,
                          const Json& body) {
  if (!link_) return;
  Status s = link_->publish(MqttMessage{topic, dumpJson(body), 1, false, "", correlation_data});
  if (!s.isOk()) spdlog::warn("reply on {}: {}", topic, s.message());
}

void NodePublisher::heartbeat(int64_t session, int64_t keep_alive_s) {
  if (!link_) return;
  NodeHeartbeat beat{session, std::min<int64_t>(keep_alive_s, 65535), clock_.nowMs()};
  Status s = send(topics::NodeTopic::kHeartbeat, dumpJson(encode(beat)), 0, false);
  if (!s.isOk()) spdlog::debug("publish heartbeat: {}", s.message());
}

void NodePublisher::metrics(const NodeMetrics& metrics) {
  if (!link_) return;
  (void)send(topics::NodeTopic::kMetrics, dumpJson(encode(metrics)), 0, false);
}

}  // namespace pharos::agent
