// The anchor core (DESIGN.md sections 2-5), the composition root: it owns the Registry, the
// EventLog and the parts that own the rest of the state (DocPublisher, Guards,
// RolloutTracker, AppOps, ApiServer with its operation table), starts and stops them,
// subscribes, and routes each message to its owner. It talks to the broker through an
// MqttLink and a BrokerAdmin, and never owns a thread: everything runs on a Strand over the
// Executor it is given; the link's callbacks hop onto that strand. Every change is
// validated, stored (one batch, synced) and numbered before it is published retained.
//
// Threading: construct and start() on one thread before the link connects; afterwards
// every method below except strand() must run on strand() (post to it).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "anchor/anchor_config.h"
#include "anchor/api_server.h"
#include "anchor/app_ops.h"
#include "anchor/broker_admin.h"
#include "anchor/doc_publisher.h"
#include "anchor/event_log.h"
#include "anchor/guards.h"
#include "anchor/health.h"
#include "anchor/inbox.h"
#include "anchor/metrics_history.h"
#include "anchor/op_context.h"
#include "anchor/registry.h"
#include "anchor/rollout_tracker.h"
#include "anchor/store.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/mqtt_link.h"

namespace pharos::anchor {

// Mosquitto's bridge notifications, retained "1" / "0" (the bridge's will at the site).
inline constexpr const char* kBridgeStateFilter = "$SYS/broker/connection/+/state";

class Anchor {
 public:
  using Reply = ApiServer::Reply;

  // `strand` serialises the core; the BrokerAdmin must use the same strand.
  Anchor(AnchorOptions config, Store& store, MqttLink& link, BrokerAdmin& admin,
         std::shared_ptr<Strand> strand, Clock& clock);
  ~Anchor();
  Anchor(const Anchor&) = delete;
  Anchor& operator=(const Anchor&) = delete;

  // Loads the store (one scan per kind), brings document generations up to date and
  // installs the link handlers. Call before link.connect().
  Status start();
  // Publishes anchor/status offline and flushes buffered events. Run on strand() before
  // the link disconnects (a clean disconnect does not fire the will).
  void stop();

  Strand& strand() { return *strand_; }
  const Registry& registry() const { return reg_; }
  EventLog& events() { return events_; }
  // anchor/status {state: offline}: the link's will.
  static MqttMessage willMessage(const Clock& clock);

  // How often a guard refused untrusted input (guards.cpp), by kind: session_ahead,
  // session_healed, retained_request; identity_changes (identities.cpp),
  // line_identity_removed (bridges.cpp, identities.cpp) and stale_info (node_messages.cpp).
  uint64_t securityCount(const std::string& what) const { return guards_.securityCount(what); }

  // Runs one API operation (also used by tests without MQTT). `user` is the caller.
  void execute(const std::string& user, const std::string& operation, const Json& body,
               Reply reply) {
    api_.execute(user, operation, body, std::move(reply));
  }

 private:
  struct PendingRegistration {
    bool has_info = false;
    bool has_status = false;
    Json info;
    NodeStatus status;
  };

  // identities.cpp: the broker's identities against the registry, once per process; each
  // configured line broker's too, once per process when its bridge is first seen connected.
  enum class IdentitySync { kNotYet, kRunning, kDone };
  IdentityPlan identityPlan() const;
  IdentityPlan lineIdentityPlan(const std::string& line) const;
  void reconcileIdentities();
  void reconcileLineIdentities(const std::string& line);
  // `line` empty: the site broker. False when it failed (to be tried again).
  bool onIdentitiesReconciled(const std::string& line, const Result<IdentityReport>& report);

  // anchor.cpp: wiring, connection, publishing, timers.
  // The API's operation table: one row per ops:: constant.
  void installOperations();
  void onLinkMessage(const MqttMessage& message);
  void onConnected();
  void handleMessage(const MqttMessage& message);
  // Handles one batch of the inbox's node messages; posts itself again while more wait.
  void drainInbox();
  void republishAll();
  void republishChunk(std::shared_ptr<std::vector<std::string>> keys, size_t from, uint64_t round);
  // A public key announced in the node's info: trusted on first sight, held as pending when
  // it differs from the trusted one (docs/security.md "Sealed secrets").
  void checkNodeKey(const std::string& node, const std::string& announced, Txn& txn);
  void scheduleFlush();
  void flush();

  // node_messages.cpp: agent topics, registration, health.
  void onNodeStatus(const std::string& node, const std::string& payload);
  void onNodeInfo(const std::string& node, const std::string& payload);
  void onNodeState(const std::string& node, const std::string& payload);
  void onNodeEvent(const std::string& node, const std::string& payload);
  void onNodeMetrics(const std::string& node, const std::string& payload);
  // metrics.query (node_messages.cpp): the node's history from MetricsHistory.
  Result<Json> metricsQuery(const Json& body);
  bool quarantined(const std::string& node);
  void maybeRegister(const std::string& node);
  void applyHealth(const std::string& node, const NodeStatus* status);
  void seen(const std::string& node);

  // node_heartbeats.cpp: agents' heartbeats and their deadlines (HeartbeatTracker).
  void onNodeHeartbeat(const std::string& node, const std::string& payload);
  void scheduleNodeHeartbeatCheck();
  void checkNodeHeartbeats();
  // The node's heartbeat deadline starts again from now (its line is reachable again).
  void restartNodeHeartbeat(const std::string& node);

  // node_messages.cpp: an info older than the node's current one that would move it to
  // another broker (a retained copy its old line broker sent again): ignored, counted.
  bool staleMove(const std::string& name, const NodeRecord& node, const NodeInfo& info);

  // bridges.cpp: Mosquitto bridge notifications ($SYS/broker/connection/<bridge>/state).
  void onBridgeState(const std::string& topic, const std::string& payload);
  // "bridge <name> down" when `node` sits behind a line broker whose bridge is down, else "".
  std::string unreachableReason(const std::string& node) const;
  // The bridge whose line broker `node` connects to (from its info.broker), "" = the site.
  std::string bridgeOf(const std::string& node) const;
  bool onLine(const std::string& node) const;
  std::string lineOfNode(const std::string& node) const;  // "line-a" for bridge-line-a
  // Syncs the node's line rights when its line changed since the last sync (info arrived).
  void checkLine(const std::string& node);
  // Line heartbeats: a beat clears "silent", the periodic check sets it.
  void onLineHeartbeat(const std::string& line);
  void scheduleHeartbeatCheck();
  void checkHeartbeats();
  void applyHealthOfLine(const std::string& line);
  // Makes the node's group read rights on its line broker match the registry (no-op for a
  // node of the site broker): BrokerAdmin::syncLineNodeGroups.
  void syncLineAcls(const std::string& node);

  // api_nodes.cpp
  Result<Json> nodeList(const Json& body);
  Result<Json> nodeGet(const Json& body);
  void nodeAdd(const std::string& user, const Json& body, Reply reply);
  void nodeRemove(const std::string& user, const Json& body, Reply reply);
  Result<Json> nodeApprove(const std::string& user, const Json& body);
  Result<Json> nodeLabel(const std::string& user, const Json& body);
  Result<Json> nodeRekey(const std::string& user, const Json& body);  // node_keys.cpp
  // Adds key_id ("" = none: secrets withheld) and pending_key_id (when one waits) to a summary.
  static void addKeyIds(const NodeRecord& node, Json& out);
  Json nodeSummary(const NodeRecord& node) const;
  // Deletes the identity, then the node's records and retained topics.
  void finishNodeRemoval(const std::string& node, const std::string& user, Reply reply);

  // api_groups.cpp
  Result<Json> groupCreate(const std::string& user, const Json& body);
  Result<Json> groupDelete(const std::string& user, const Json& body);
  Result<Json> groupList(const Json& body);
  Result<Json> groupGet(const Json& body);
  Result<Json> groupMembers(const std::string& user, const Json& body, bool add);
  // Effective groups of `nodes`, to diff after a membership change.
  std::map<std::string, std::set<std::string>> snapshotGroups(const std::set<std::string>& nodes);
  void updateAcls(const std::map<std::string, std::set<std::string>>& before);

  // removal.cpp: tombstones, removed apps and purges.
  void scheduleSweep();
  void sweep();
  // True when every node of `nodes` reported state without `app`.
  bool allGone(const std::set<std::string>& nodes, const std::string& app) const;
  std::set<std::string> nodesOfDoc(const std::string& doc_key) const;

  AnchorOptions config_;
  Store& store_;
  MqttLink& link_;
  BrokerAdmin& admin_;
  Clock& clock_;
  std::shared_ptr<Strand> strand_;
  Registry reg_;
  EventLog events_;
  DocPublisher publisher_;
  Guards guards_;
  std::map<std::string, NodeState> node_states_;  // last reported, per node
  RolloutTracker rollouts_;
  OpContext ops_;
  AppOps apps_;
  ApiServer api_;
  MetricsHistory metrics_;

  bool started_ = false;
  bool subscribed_ = false;
  uint64_t republish_round_ = 0;
  std::map<std::string, int64_t> last_seen_persisted_;
  std::map<std::string, Json> node_metrics_;
  std::map<std::string, PendingRegistration> pending_registrations_;
  std::map<std::string, int64_t> quarantine_;  // removed node -> until (ms)
  std::set<std::string> adding_;               // node.add in flight
  std::set<std::string> removing_;             // identity deletion in flight
  std::set<std::string> dirty_health_;
  std::map<std::string, bool> bridges_up_;         // bridge name -> last notification
  std::map<std::string, std::string> node_lines_;  // node -> line its rights were synced on
  std::map<std::string, int64_t> heartbeats_;      // line -> last heartbeat (ms)
  std::set<std::string> silent_lines_;             // lines whose heartbeat stopped
  bool heartbeat_check_scheduled_ = false;
  HeartbeatTracker node_beats_;  // agents' heartbeat deadlines
  bool node_beat_check_scheduled_ = false;
  int64_t node_beat_check_armed_ = 0;  // ms when the pending check was scheduled
  size_t node_beat_drops_seen_ = 0;    // node_beat_drops_ at the last check
  // Heartbeats the link callback dropped under back-pressure (counted off the strand).
  std::shared_ptr<std::atomic<size_t>> node_beat_drops_ = std::make_shared<std::atomic<size_t>>(0);
  bool flush_scheduled_ = false;
  bool sweep_scheduled_ = false;
  IdentitySync identities_ = IdentitySync::kNotYet;
  std::map<std::string, IdentitySync> line_identities_;             // configured line -> its sync
  std::map<std::string, std::pair<int64_t, double>> event_tokens_;  // node -> (ms, tokens)
  std::shared_ptr<std::atomic<size_t>> queued_ = std::make_shared<std::atomic<size_t>>(0);
  std::shared_ptr<MessageInbox> inbox_ = std::make_shared<MessageInbox>();
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pharos::anchor
