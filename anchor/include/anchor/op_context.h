// What the management operations (app_ops.h, and the node and group operations) reach: the
// registry and its store, the event log, the document publisher, the rollout summaries, the
// broker admin, the clock and the configuration. Nothing here speaks MQTT, so the operations
// run in tests over a MemoryStore, a capturing publisher and a ManualClock.
//
// Threading: every part runs on the anchor's strand.
#pragma once

#include <string>

#include "anchor/anchor_config.h"
#include "anchor/broker_admin.h"
#include "anchor/doc_publisher.h"
#include "anchor/event_log.h"
#include "anchor/registry.h"
#include "anchor/rollout_tracker.h"
#include "anchor/store.h"
#include "pharos/clock.h"

namespace pharos::anchor {

class MetricsHistory;
class StagedRollouts;

struct OpContext {
  const AnchorOptions& config;
  Registry& reg;
  Store& store;
  EventLog& events;
  DocPublisher& publisher;
  RolloutTracker& rollouts;
  BrokerAdmin& admin;
  Clock& clock;
  StagedRollouts* staged = nullptr;   // evaluates staged rollouts (none: not evaluated)
  MetricsHistory* metrics = nullptr;  // nodes' metrics history (none: not kept)

  // Stages the audit event of `operation` by `user` in `batch` (committed with the change).
  void audit(WriteBatch& batch, const std::string& user, const std::string& operation,
             const std::string& node, const std::string& app, const std::string& message) const;
  // Deletes an app record with its secrets and revisions (in `txn`).
  Status dropApp(Txn& txn, const std::string& app) const;
};

// not_found (path target.node / target.group) unless the target's node or group exists.
Status checkTarget(const Registry& reg, const Target& target);

}  // namespace pharos::anchor
