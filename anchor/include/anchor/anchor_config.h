// The anchor core's options (AnchorOptions, as AgentOptions are the agent core's), read by
// the core and each of its parts (anchor.h). Plain data: options.cpp turns pharos-anchor's
// settings (AnchorSettings, read from the config file and flags) into it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "anchor/time_zone.h"

namespace pharos::anchor {

struct AnchorOptions {
  // New nodes wait in Pending (no desired document) until node.approve.
  bool require_approval = false;
  // Users limited to read-only operations (defence in depth behind the broker ACL).
  std::set<std::string> viewers;
  // Operations viewers may call; empty = libpharos's isReadOperation list.
  std::set<std::string> read_only_operations;
  size_t max_nodes = 100'000;   // auto-registration stops beyond this
  size_t max_events = 100'000;  // event retention
  int max_revisions = 50;       // revision history kept per app
  size_t max_rollouts = 20;     // rollout records kept per app (rollout_history.h)
  // Rollout summaries are published at most this often (a debounce adapted to their cost:
  // rolloutDelay in rollout.h), and at least this soon after a change.
  std::chrono::milliseconds rollout_interval{200};
  std::chrono::milliseconds rollout_min_interval{20};
  // How often staged rollouts' gates are judged while one runs (staged_rollouts.h).
  std::chrono::milliseconds staged_rollout_tick{500};
  // The zone update windows are read in (site_time_zone; default: the process's own).
  TimeZone site_time_zone;
  std::chrono::milliseconds flush_interval{500};         // event/health batches
  std::chrono::milliseconds sweep_interval{1000};        // tombstone and purge checks
  size_t republish_chunk = 500;                          // documents per strand task
  std::chrono::milliseconds removed_quarantine{30'000};  // messages of removed nodes ignored
  std::chrono::milliseconds malformed_log_interval{10'000};
  size_t max_queued_messages = 200'000;  // beyond this, metrics and events are dropped
  // Node messages handled per strand task (inbox.h): an API request waits for one batch.
  size_t inbox_batch = 64;
  // Ask the broker (BrokerAdmin::lookupUser) whether the caller of a change is a viewer.
  bool check_broker_roles = true;
  std::chrono::milliseconds user_role_ttl{30'000};  // cached lookups
  // Line brokers (docs/levels.md): bridge name (the bridge's remote_clientid, e.g.
  // bridge-line-a, or the line name line-a) -> broker URLs its agents connect to (their
  // info.broker). A bridge without an entry matches nodes whose broker host is the line name.
  std::map<std::string, std::vector<std::string>> bridges;
  // A line whose heartbeat (its broker's $SYS/broker/uptime, exported by its bridge every
  // 2 s) stops for this long is "silent": its nodes are Unreachable before Mosquitto's
  // bridge keep-alive notices (docs/levels.md). 0 = off. Lines that send none are unaffected.
  std::chrono::milliseconds line_heartbeat_timeout{5000};
  // Agents' heartbeats (nodes/{node}/heartbeat, docs/anchor.md "Health"): how often the
  // deadlines are checked, and how late that check may run before the anchor blames itself
  // and pushes every deadline forward by the delay.
  std::chrono::milliseconds node_heartbeat_check{100};
  std::chrono::milliseconds node_heartbeat_lag_guard{500};
  // The at-rest key of secret and registry records (sealed::kStoreKeyBytes raw bytes, from
  // the secrets key file: docs/security.md "Sealed secrets"). Required.
  std::string secrets_key;
  // A status or heartbeat whose session (Unix ms when its agent started, docs/protocol.md)
  // is further ahead of the anchor's clock than this is ignored (guards.cpp): a forged
  // session must not pin a node's health and hide its will. A store holding one is healed.
  std::chrono::milliseconds max_session_ahead{3'600'000};
  // Metrics history (docs/metrics.md): a fine ring of one point per step for `keep`, and a
  // coarse ring of step means. Steps and retentions in seconds.
  std::chrono::seconds metrics_fine_step{15};
  std::chrono::seconds metrics_fine_keep{3600};
  std::chrono::seconds metrics_coarse_step{300};
  std::chrono::seconds metrics_coarse_keep{7 * 24 * 3600};
  // The containers' coarse ring (the same step, a shorter retention; their fine ring is the
  // nodes').
  std::chrono::seconds metrics_container_keep{24 * 3600};
};

}  // namespace pharos::anchor
