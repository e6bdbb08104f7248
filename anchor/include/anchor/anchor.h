// The anchor core: registration, health, desired documents, the request/response API,
// rollout summaries and removal bookkeeping (DESIGN.md sections 2-5). It owns the Registry
// and EventLog, talks to the broker through an MqttLink and a BrokerAdmin, and never owns a
// thread: everything runs on a Strand over the Executor it is given; the link's callbacks
// hop onto that strand. Every change is validated, stored (one batch, synced) and numbered
// before it is published retained.
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

#include "anchor/broker_admin.h"
#include "anchor/event_log.h"
#include "anchor/health.h"
#include "anchor/inbox.h"
#include "anchor/registry.h"
#include "anchor/store.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/mqtt_link.h"

namespace pharos::anchor {

// The core's options, as AgentOptions are the agent core's: what pharos-anchor's settings
// (AnchorSettings in options.h, read from the config file and flags) hand to Anchor.
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
  // Rollout summaries are published at most this often (a debounce adapted to their cost:
  // rolloutDelay in rollout.h), and at least this soon after a change.
  std::chrono::milliseconds rollout_interval{200};
  std::chrono::milliseconds rollout_min_interval{20};
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
};

// Mosquitto's bridge notifications, retained "1" / "0" (the bridge's will at the site).
inline constexpr const char* kBridgeStateFilter = "$SYS/broker/connection/+/state";

class Anchor {
 public:
  using Reply = std::function<void(Result<Json>)>;

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
  // session_healed, retained_request; identity_changes (identities.cpp) and
  // line_identity_removed (bridges.cpp).
  uint64_t securityCount(const std::string& what) const;

  // Runs one API operation (also used by tests without MQTT). `user` is the caller.
  void execute(const std::string& user, const std::string& operation, const Json& body,
               Reply reply);

 private:
  struct PendingRegistration {
    bool has_info = false;
    bool has_status = false;
    Json info;
    NodeStatus status;
  };

  // identities.cpp: the broker's identities against the registry, once per process.
  enum class IdentitySync { kNotYet, kRunning, kDone };
  IdentityPlan identityPlan() const;
  void reconcileIdentities();
  void onIdentitiesReconciled(const Result<IdentityReport>& report);

  // guards.cpp: untrusted input the broker lets through.
  bool tooFarAhead(int64_t session) const;
  bool sessionBelievable(const std::string& node, int64_t session, const char* what);
  void healSessions();
  // True when `message` is a retained request (not to be executed); clears it.
  bool dropRetainedRequest(const MqttMessage& message);

  // anchor.cpp: wiring, connection, publishing, timers.
  void onLinkMessage(const MqttMessage& message);
  void onConnected();
  void handleMessage(const MqttMessage& message);
  // Handles one batch of the inbox's node messages; posts itself again while more wait.
  void drainInbox();
  void republishAll();
  void republishChunk(std::shared_ptr<std::vector<std::string>> keys, size_t from, uint64_t round);
  void publishDoc(const std::string& doc_key);
  // node_keys.cpp: the node's secrets document sealed to its public key, or withheld.
  void publishSealedSecrets(const std::string& node, int64_t generation);
  // A public key announced in the node's info: trusted on first sight, held as pending when
  // it differs from the trusted one (docs/security.md "Sealed secrets").
  void checkNodeKey(const std::string& node, const std::string& announced, Txn& txn);
  void publishEmptyDoc(const std::string& doc_key);
  void publishRetained(const std::string& topic, const std::string& payload);
  void publishHealth(const std::string& node);
  // Commits `txn` and publishes the documents it changed (in touch order) and clears the
  // ones it removed. `sync` for acknowledged changes. `before_publish` runs between the
  // commit and the first publish (broker ACL changes the documents depend on).
  Status commitAndPublish(Txn& txn, bool sync = true,
                          const std::function<void()>& before_publish = {});
  void scheduleFlush();
  void flush();
  void scheduleRollouts();
  void publishRollouts();
  void markAppsOfNode(const std::string& node);
  void logMalformed(const std::string& what, const std::string& topic, const Status& status);

  // node_messages.cpp: agent topics, registration, health.
  void onNodeStatus(const std::string& node, const std::string& payload);
  void onNodeInfo(const std::string& node, const std::string& payload);
  void onNodeState(const std::string& node, const std::string& payload);
  void onNodeEvent(const std::string& node, const std::string& payload);
  void onNodeMetrics(const std::string& node, const std::string& payload);
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

  // api.cpp: envelope, dispatch, replies.
  void onApiRequest(const MqttMessage& message, const std::string& user,
                    const std::string& operation);
  bool isReadOnly(const std::string& operation) const;
  void dispatch(const std::string& user, const std::string& operation, const Json& body,
                Reply reply);

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

  // api_apps.cpp
  Result<Json> appDeploy(const std::string& user, const Json& body);
  Result<Json> appRemove(const std::string& user, const Json& body);
  Result<Json> appSetState(const std::string& user, const std::string& operation, const Json& body);
  Result<Json> appList(const Json& body);
  Result<Json> appGet(const Json& body);
  Result<Json> appHistory(const Json& body);
  Result<Json> appRollback(const std::string& user, const Json& body);
  Result<Json> registrySet(const std::string& user, const Json& body);
  Result<Json> eventsQuery(const Json& body);
  Status validateCompose(const std::string& compose, const Target& target,
                         const std::map<std::string, std::string>& variables,
                         const std::map<std::string, std::string>& secrets);
  // Stores a new revision of `app` (already updated in `txn`) in the same batch.
  void stageRevision(Txn& txn, const AppRecord& app, const std::string& user,
                     const std::string& note);
  RolloutSummary rolloutOf(const AppRecord& app) const;
  // The summary publishRollouts computed last while the app is not dirty (nothing that
  // feeds it changed since), else a fresh rolloutOf: app.get / app.list answer from it.
  RolloutSummary currentRollout(const AppRecord& app) const;
  void auditEvent(WriteBatch& batch, const std::string& user, const std::string& operation,
                  const std::string& node, const std::string& app, const std::string& message);

  // removal.cpp: tombstones, removed apps and purges.
  void scheduleSweep();
  void sweep();
  // True when every node of `nodes` reported state without `app`.
  bool allGone(const std::set<std::string>& nodes, const std::string& app) const;
  std::set<std::string> nodesOfDoc(const std::string& doc_key) const;
  // Deletes an app record with its secrets and revisions (in `txn`).
  Status dropApp(Txn& txn, const std::string& app);

  AnchorOptions config_;
  Store& store_;
  MqttLink& link_;
  BrokerAdmin& admin_;
  Clock& clock_;
  std::shared_ptr<Strand> strand_;
  Registry reg_;
  EventLog events_;

  bool started_ = false;
  bool connected_ = false;
  bool subscribed_ = false;
  uint64_t republish_round_ = 0;
  std::map<std::string, NodeState> node_states_;
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
  std::set<std::string> dirty_rollouts_;
  std::map<std::string, std::string> rollout_hashes_;  // last published, per app
  std::map<std::string, RolloutSummary> rollouts_;     // last computed, per app
  std::chrono::microseconds rollout_cost_{0};          // CPU time of the last publishRollouts
  bool flush_scheduled_ = false;
  bool rollout_scheduled_ = false;
  bool sweep_scheduled_ = false;
  std::map<std::string, std::pair<bool, int64_t>> user_roles_;  // user -> (viewer, until)
  std::map<std::string, int64_t> malformed_logged_;             // what -> last log (ms)
  std::map<std::string, int64_t> malformed_dropped_;
  std::map<std::string, uint64_t> security_counts_;  // guards.cpp, identities.cpp
  IdentitySync identities_ = IdentitySync::kNotYet;
  std::map<std::string, std::pair<int64_t, double>> event_tokens_;  // node -> (ms, tokens)
  std::shared_ptr<std::atomic<size_t>> queued_ = std::make_shared<std::atomic<size_t>>(0);
  std::shared_ptr<MessageInbox> inbox_ = std::make_shared<MessageInbox>();
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pharos::anchor
