// Node messages (status, info, state, events, metrics, heartbeats) wait here, off the
// anchor's strand, and are handled in batches: API requests and dynamic-security answers,
// posted straight to the strand, then wait for at most one batch instead of behind a backlog
// of thousands of node messages (the 30,000 retained status/info/state documents a restart
// at 10,000 nodes receives on subscribing, a registration storm, a fan-out's state reports).
// Order among node messages is kept. Each waits with its topic as the link's callback parsed
// it (for back-pressure), so the strand does not parse it again.
//
// Threading: push() from any thread (the link's callbacks); takeBatch() on the strand.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "pharos/mqtt_link.h"
#include "pharos/topics.h"

namespace pharos::anchor {

// A message on a nodes/{node}/... topic, with that topic parsed.
struct NodeMessage {
  topics::Parsed topic;
  MqttMessage message;
};

class MessageInbox {
 public:
  // Queues `message`. True when the caller must post a drain (none is pending).
  bool push(NodeMessage message);
  // Moves up to `max` of the oldest messages into `out` (cleared first). True when more
  // remain: the caller posts another drain. False leaves no drain pending: the next push
  // asks for one.
  bool takeBatch(size_t max, std::vector<NodeMessage>& out);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::deque<NodeMessage> queue_;
  bool drain_pending_ = false;
};

}  // namespace pharos::anchor
