// The anchor core (DESIGN.md sections 2-5), the composition root: it owns the Registry, the
// EventLog and the parts that own the rest of the state (DocPublisher, Guards,
// RolloutTracker, LineMonitor, NodeHealthMonitor, NodeMonitor, NodeOps, GroupOps, AppOps,
// RegistryOps, RemovalSweep, ApiServer with its operation table), starts and stops them,
// subscribes, and routes each message to its owner. It talks to the broker through an MqttLink and
// a BrokerAdmin, and never owns a thread: everything runs on a Strand over the Executor it is
// given; the link's callbacks hop onto that strand. Every change is validated, stored (one batch,
// synced) and numbered before it is published retained.
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
#include "anchor/group_ops.h"
#include "anchor/guards.h"
#include "anchor/health.h"
#include "anchor/inbox.h"
#include "anchor/line_monitor.h"
#include "anchor/metrics_history.h"
#include "anchor/node_health_monitor.h"
#include "anchor/node_monitor.h"
#include "anchor/node_ops.h"
#include "anchor/op_context.h"
#include "anchor/registry.h"
#include "anchor/registry_ops.h"
#include "anchor/removal_sweep.h"
#include "anchor/rollout_tracker.h"
#include "anchor/staged_rollouts.h"
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
  // line_identity_removed (line_monitor.cpp, identities.cpp) and stale_info
  // (node_monitor.cpp).
  uint64_t securityCount(const std::string& what) const { return guards_.securityCount(what); }

  // Runs one API operation (also used by tests without MQTT). `user` is the caller.
  void execute(const std::string& user, const std::string& operation, const Json& body,
               Reply reply) {
    api_.execute(user, operation, body, std::move(reply));
  }

 private:
  // identities.cpp: the broker's identities against the registry, once per process; each
  // configured line broker's too, once per process when its bridge is first seen connected.
  enum class IdentitySync { kNotYet, kRunning, kDone };
  IdentityPlan identityPlan() const;
  IdentityPlan lineIdentityPlan(const std::string& line) const;
  void reconcileIdentities();
  void reconcileLineIdentities(const std::string& line);
  // `line` empty: the site broker. False when it failed (to be tried again).
  bool onIdentitiesReconciled(const std::string& line, const Result<IdentityReport>& report);

  // anchor.cpp: wiring, connection, routing, republishing.
  // The API's operation table: one row per ops:: constant.
  void installOperations();
  void onConnected();
  // Routes a message by its topic, parsed once by the link's callback.
  void handleMessage(const MqttMessage& message, const Result<topics::Parsed>& parsed);
  void handleNodeMessage(const topics::Parsed& topic, const MqttMessage& message);
  // Handles one batch of the inbox's node messages; posts itself again while more wait.
  void drainInbox();
  void republishAll();
  void republishChunk(std::shared_ptr<std::vector<std::string>> keys, size_t from, uint64_t round);

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
  MetricsHistory metrics_;  // nodes' metrics history (docs/metrics.md)
  OpContext ops_;
  StagedRollouts staged_;
  LineMonitor lines_;
  NodeHealthMonitor health_;
  NodeMonitor monitor_;
  NodeOps nodes_;
  GroupOps groups_;
  AppOps apps_;
  RegistryOps registries_;
  RemovalSweep sweep_;
  ApiServer api_;

  bool subscribed_ = false;
  uint64_t republish_round_ = 0;
  IdentitySync identities_ = IdentitySync::kNotYet;
  std::map<std::string, IdentitySync> line_identities_;  // configured line -> its sync
  std::shared_ptr<std::atomic<size_t>> queued_ = std::make_shared<std::atomic<size_t>>(0);
  std::shared_ptr<MessageInbox> inbox_ = std::make_shared<MessageInbox>();
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pharos::anchor
