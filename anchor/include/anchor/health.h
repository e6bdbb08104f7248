// Node health (DESIGN.md section 3, "Health"): the agent's retained status plus its last
// will give the raw signal; the anchor applies the session rule (a NotReady whose session is
// older than the newest Ready is ignored, so a late will of a previous connection cannot
// mark a reconnected node down), approval (Pending) and records every transition. Agents
// that send heartbeats (nodes/{node}/heartbeat) are also timed: HeartbeatTracker below.
// Pure functions over a NodeHealthRecord, and a value class: thread-compatible.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "anchor/model.h"
#include "pharos/messages.h"

namespace pharos::anchor {

// Applies the session rule. Returns false (and changes nothing) when the status must be
// ignored: a NotReady (or Ready) older than the newest Ready seen.
bool acceptStatus(NodeHealthRecord& record, const NodeStatus& status);

enum class HealthChange { kNone, kUpdated, kTransition };

// Recomputes the published verdict from the registration and the last accepted status.
// kTransition when the state changed (appended to history, `since` = now), kUpdated when
// only reason or session changed.
HealthChange updateVerdict(NodeHealthRecord& record, Registration registration, int64_t now_ms);
// As above; a non-empty `unreachable` (the node's line broker lost its bridge) makes an
// accepted node Unreachable with that reason whatever its last status says.
HealthChange updateVerdict(NodeHealthRecord& record, Registration registration, int64_t now_ms,
                           const std::string& unreachable);
// As above; a non-empty `heartbeat_timeout` (HeartbeatTracker::timeoutReason) turns a verdict
// that would be Ready into NotReady with that reason. It never overrides Pending,
// Unreachable or a NotReady status.
HealthChange updateVerdict(NodeHealthRecord& record, Registration registration, int64_t now_ms,
                           const std::string& unreachable, const std::string& heartbeat_timeout);

// Keep-alives the anchor accepts from a heartbeat, in seconds (others are clamped).
inline constexpr int64_t kMinHeartbeatKeepAlive = 1;
inline constexpr int64_t kMaxHeartbeatKeepAlive = 3600;

// Application heartbeats (docs/protocol.md "Health"): per node, the deadline by which its next
// heartbeat must arrive (1.5 x its keep-alive after the last one), kept ordered so that the
// anchor's periodic check touches only the deadlines that passed. A node whose deadline
// passes is timed out for that session until a heartbeat of the same session arrives (a
// SIGCONT) or a newer session takes over. Nodes that never sent a heartbeat are not watched.
// Every deadline can be pushed forward at once in O(1) (postponeAll: the anchor itself was
// late, or dropped heartbeats under a flood). Not persisted: after a restart each node is
// watched again from its next heartbeat. Thread-compatible; times are the anchor's ms.
class HeartbeatTracker {
 public:
  enum class Beat {
    kIgnored,  // older than the node's last status or newest Ready (a previous connection)
    kWatched,  // the deadline moved
    kRevived,  // the deadline moved and a timeout of this session ended
  };
  Beat beat(const std::string& node, const NodeHeartbeat& heartbeat, const NodeHealthRecord& record,
            int64_t now_ms);
  // Nodes whose deadline has passed at `now_ms`, oldest first; each is now timed out and
  // unwatched until its next heartbeat.
  std::vector<std::string> expire(int64_t now_ms);
  // "heartbeat timeout (no heartbeat for 3.0 s, keep-alive 2 s)" when `node` timed out in the
  // session of the record's last status, else "" (a newer session's status ends a timeout).
  std::string timeoutReason(const std::string& node, const NodeHealthRecord& record) const;
  // Every live deadline `by_ms` later.
  void postponeAll(int64_t by_ms);
  // Every live deadline at least 1.5 x keep-alive after `now_ms` (the anchor's link came back:
  // what it missed while away says nothing about the nodes).
  void restartAll(int64_t now_ms);
  // The node's deadline 1.5 x keep-alive after `now_ms`, its timeout cleared (its line is
  // reachable again). True when a timeout was cleared.
  bool restart(const std::string& node, int64_t now_ms);
  // An accepted status of `session`: a watch of an older session ends (the new connection
  // is watched from its first heartbeat, and an agent without heartbeats may follow).
  void onStatus(const std::string& node, int64_t session);
  void forget(const std::string& node);
  size_t watched() const { return deadlines_.size(); }
  size_t nodes() const { return watches_.size(); }

 private:
  struct Watch {
    int64_t session = 0;
    int64_t keep_alive_ms = 0;
    int64_t last_beat = 0;
    bool live = false;  // a deadline is in deadlines_ (key deadline_key)
    int64_t deadline_key = 0;
    bool timed_out = false;
    std::string reason;
  };
  void arm(const std::string& node, Watch& watch, int64_t deadline_ms);
  void disarm(const std::string& node, Watch& watch);

  std::unordered_map<std::string, Watch> watches_;
  // (deadline - shift_, node): postponeAll only moves shift_.
  std::set<std::pair<int64_t, std::string>> deadlines_;
  int64_t shift_ = 0;
};

}  // namespace pharos::anchor
