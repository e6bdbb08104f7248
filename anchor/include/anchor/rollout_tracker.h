// Rollout summaries kept current (apps/{app}/rollout, DESIGN.md section 3). Whatever feeds a
// summary (a deploy, a node's state report, a health transition, a membership change) marks
// its apps dirty; a debounced pass (rolloutDelay in rollout.h: adapted to what the last pass
// cost) recomputes each dirty app's summary and publishes it when more than its timestamp
// changed. The last summary computed answers app.get and app.list while its app stays clean.
//
// Threading: runs on the anchor's strand.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "anchor/anchor_config.h"
#include "anchor/doc_publisher.h"
#include "anchor/model.h"
#include "anchor/registry.h"
#include "pharos/clock.h"
#include "pharos/executor.h"

namespace pharos::anchor {

class RolloutTracker {
 public:
  // `node_states`: the last state each node reported (kept by the anchor).
  RolloutTracker(const AnchorOptions& config, const Registry& reg,
                 const std::map<std::string, NodeState>& node_states, DocPublisher& publisher,
                 Strand& strand, Clock& clock);

  // Marks `app` dirty; schedule() publishes it.
  void mark(const std::string& app);
  // Marks every app (a republish after reconnecting) and schedules.
  void markAll();
  // Marks the apps that reach `node` (its own and its groups') and schedules.
  void markAppsOfNode(const std::string& node);
  // Arms the debounced pass when something is dirty and none is armed.
  void schedule();

  // The summary the last pass computed while the app is clean, else a fresh one.
  RolloutSummary current(const AppRecord& app) const;
  RolloutSummary compute(const AppRecord& app) const;

 private:
  void publish();

  const AnchorOptions& config_;
  const Registry& reg_;
  const std::map<std::string, NodeState>& node_states_;
  DocPublisher& publisher_;
  Strand& strand_;
  Clock& clock_;
  std::set<std::string> dirty_;
  std::map<std::string, std::string> hashes_;   // last published, per app
  std::map<std::string, RolloutSummary> last_;  // last computed, per app
  std::chrono::microseconds cost_{0};           // CPU time of the last pass
  bool scheduled_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pharos::anchor
